const helper = require('./lib/helper');

exports.handler = async (event, context) => {
  console.log('Checking inventory for order:', event.orderId);
  const remaining = context.getRemainingTimeInMillis();
  return {
    event,
    functionName: context.functionName,
    helper: helper.name,
    remainingOk: remaining > 0 && remaining <= 3000,
    region: process.env.AWS_REGION,
    endpoint: process.env.AWS_ENDPOINT_URL,
  };
};
