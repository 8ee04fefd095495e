exports.handler = async (event) => ({ nested: event });
