export const handler = async (event) => {
  if (event.string) throw 'plain';
  throw new TypeError('nope');
};
