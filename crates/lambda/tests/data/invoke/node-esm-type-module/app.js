export async function main(event) {
  return { module: typeof require === 'undefined', x: event.x };
}
