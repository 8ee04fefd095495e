//! Table tests for Baton's JSONata seam: Step Functions functions, limits, conversion.
