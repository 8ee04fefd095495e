// Seed 001: verifies that the item is in stock, simulating a 90% success rate.
// IN_STOCK_RATE (the function's environment) overrides the rate, so tests can make the outcome
// certain (1 or 0) without editing the workflow.
export const handler = async (event) => {
    console.log("Checking inventory for order:", event.orderId);
    // Simulate inventory check
    const inStock = Math.random() < Number(process.env.IN_STOCK_RATE ?? 0.9);
    return {
        orderId: event.orderId,
        inStock: inStock
    };
};
