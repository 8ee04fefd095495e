//! rng (work in progress).
