import { name } from './helper.mjs';

export const handler = async (event) => {
    console.log("Updating status for order:", event.orderId);
    return {
        orderId: event.orderId,
        status: "Completed",
        helper: name,
    };
};
