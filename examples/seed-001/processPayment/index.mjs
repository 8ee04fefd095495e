// Seed 001: simulates a 90% payment success rate; PAYMENT_SUCCESS_RATE overrides it.
export const handler = async (event) => {
    console.log("Processing payment for order:", event.orderId);
    // Simulate payment processing
    const paymentSuccessful = Math.random() < Number(process.env.PAYMENT_SUCCESS_RATE ?? 0.9);
    return {
        orderId: event.orderId,
        paymentSuccessful: paymentSuccessful
    };
};
