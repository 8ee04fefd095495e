exports.handler = function (event, context, callback) {
  setTimeout(() => {
    if (event.ok) callback(null, { via: 'callback' });
    else callback(new Error('callback failed'));
  }, 5);
};
