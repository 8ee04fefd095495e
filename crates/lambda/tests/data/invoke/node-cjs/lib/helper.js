module.exports = { name: 'cjs-helper' };
