// Baton's Lambda runtime for Node.js.
//
// Loads the handler named by _HANDLER from LAMBDA_TASK_ROOT (CommonJS or ES module: `.mjs`,
// `.cjs`, or `.js` under a package.json with "type": "module"), then loops on the Lambda
// Runtime API at AWS_LAMBDA_RUNTIME_API: GET the next invocation, call the handler (async,
// promise-returning or callback style), POST its result or its error shaped as AWS's Node.js
// runtime shapes it ({errorType, errorMessage, trace}). Errors while loading the handler go to
// /runtime/init/error. Embedded in the Baton binary; see crates/lambda/src/pool.rs.

import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import util from 'node:util';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const [HOST, PORT] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const TASK_ROOT = process.env.LAMBDA_TASK_ROOT || process.cwd();

// A minimal HTTP/1.1 client on one kept-alive socket: the Runtime API is local, answers one
// request at a time with Content-Length, and node:http's machinery would dominate the cost of
// a warm invocation.
class Connection {
  constructor() {
    this.sock = null;
    this.buf = Buffer.alloc(0);
    this.waiter = null;
  }

  connect() {
    const sock = net.connect({ host: HOST, port: Number(PORT), noDelay: true });
    sock.on('data', (chunk) => {
      this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
      this.parse();
    });
    sock.on('error', (err) => this.fail(err));
    sock.on('close', () => {
      if (this.sock === sock) this.sock = null;
      this.fail(new Error('the Runtime API closed the connection'));
    });
    this.sock = sock;
    this.buf = Buffer.alloc(0);
  }

  fail(err) {
    const waiter = this.waiter;
    this.waiter = null;
    if (waiter) waiter.reject(err);
  }

  parse() {
    if (!this.waiter) return;
    const end = this.buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const lines = this.buf.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(lines[0].split(' ')[1]);
    const headers = {};
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = Number(headers['content-length'] || 0);
    if (this.buf.length < end + 4 + length) return;
    const body = this.buf.subarray(end + 4, end + 4 + length);
    this.buf = this.buf.subarray(end + 4 + length);
    const waiter = this.waiter;
    this.waiter = null;
    waiter.resolve({ status, headers, body });
  }

  send(method, urlPath, body, headers) {
    if (!this.sock) this.connect();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      const payload = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
      let head = `${method} ${urlPath} HTTP/1.1\r\nHost: ${process.env.AWS_LAMBDA_RUNTIME_API}\r\nContent-Length: ${payload.length}\r\n`;
      for (const [key, value] of Object.entries(headers || {})) head += `${key}: ${value}\r\n`;
      this.sock.write(Buffer.concat([Buffer.from(head + '\r\n', 'latin1'), payload]));
    });
  }
}

const connection = new Connection();

let currentRequestId = undefined;

async function request(method, urlPath, body, headers) {
  try {
    return await connection.send(method, urlPath, body, headers);
  } catch {
    // One retry on a fresh connection.
    if (connection.sock) connection.sock.destroy();
    connection.sock = null;
    return connection.send(method, urlPath, body, headers);
  }
}

// console.* as on AWS: "<time>\t<request id>\t<LEVEL>\t<message>".
for (const [name, level] of [['log', 'INFO'], ['info', 'INFO'], ['warn', 'WARN'], ['error', 'ERROR'], ['debug', 'DEBUG'], ['trace', 'TRACE']]) {
  const stream = name === 'error' || name === 'warn' ? process.stderr : process.stdout;
  console[name] = (...args) => {
    const line = `${new Date().toISOString()}\t${currentRequestId ?? 'undefined'}\t${level}\t${util.format(...args)}`;
    stream.write(line.replace(/\n/g, '\r') + '\n');
  };
}

// Stack traces name the task root /var/task, as on AWS, so error causes match AWS's (the
// function's log keeps the real path).
const ROOT_PATH = path.resolve(TASK_ROOT) + path.sep;
const ROOT_URL = pathToFileURL(ROOT_PATH).href;
const asOnAws = (line) => line.split(ROOT_URL).join('file:///var/task/').split(ROOT_PATH).join('/var/task/');

function errorDocument(err) {
  if (err instanceof Error) {
    return {
      errorType: err.name || 'Error',
      errorMessage: err.message,
      trace: typeof err.stack === 'string' ? err.stack.split('\n').map(asOnAws) : [],
    };
  }
  return { errorType: typeof err, errorMessage: String(err), trace: [] };
}

class InitError extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

async function postInitError(err) {
  const doc = errorDocument(err);
  process.stderr.write(`${new Date().toISOString()}\tundefined\tERROR\t${JSON.stringify(doc)}\n`);
  await request('POST', '/2018-06-01/runtime/init/error', JSON.stringify(doc), {
    'Content-Type': 'application/json',
    'Lambda-Runtime-Function-Error-Type': doc.errorType,
  });
  process.exit(1);
}

function nearestPackageType(dir) {
  let current = dir;
  for (;;) {
    const candidate = path.join(current, 'package.json');
    if (fs.existsSync(candidate)) {
      try {
        return JSON.parse(fs.readFileSync(candidate, 'utf8')).type;
      } catch {
        return undefined;
      }
    }
    const parent = path.dirname(current);
    if (parent === current || !current.startsWith(TASK_ROOT)) return undefined;
    current = parent;
  }
}

async function loadModule(modulePath) {
  const base = path.resolve(TASK_ROOT, modulePath);
  const require = createRequire(path.join(TASK_ROOT, 'index.js'));
  if (fs.existsSync(base + '.mjs')) return import(pathToFileURL(base + '.mjs').href);
  if (fs.existsSync(base + '.cjs')) return require(base + '.cjs');
  if (fs.existsSync(base + '.js')) {
    if (nearestPackageType(path.dirname(base)) === 'module') return import(pathToFileURL(base + '.js').href);
    try {
      return require(base + '.js');
    } catch (err) {
      if (err && err.code === 'ERR_REQUIRE_ESM') return import(pathToFileURL(base + '.js').href);
      throw err;
    }
  }
  try {
    return require(base);
  } catch (err) {
    if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes(base)) {
      throw new InitError('Runtime.ImportModuleError', `Error: Cannot find module '${modulePath}'`);
    }
    throw err;
  }
}

async function loadHandler(spec) {
  const slash = spec.lastIndexOf('/');
  const dot = spec.indexOf('.', slash + 1);
  if (dot < 0) throw new InitError('Runtime.MalformedHandlerName', 'Bad handler');
  const modulePath = spec.slice(0, dot);
  const functionPath = spec.slice(dot + 1).split('.');
  let mod;
  try {
    mod = await loadModule(modulePath);
  } catch (err) {
    if (err instanceof InitError) throw err;
    if (err instanceof SyntaxError) {
      throw new InitError('Runtime.UserCodeSyntaxError', `${err.name}: ${err.message}`);
    }
    if (err && err.code === 'ERR_MODULE_NOT_FOUND') {
      throw new InitError('Runtime.ImportModuleError', `Error: ${err.message}`);
    }
    throw err;
  }
  let fn = mod;
  for (const part of functionPath) {
    fn = fn === undefined || fn === null ? undefined : fn[part];
    // An ES module that is CommonJS underneath exposes its exports as `default`.
    if (fn === undefined && mod && mod.default && part === functionPath[0]) fn = mod.default[part];
  }
  if (typeof fn !== 'function') {
    throw new InitError('Runtime.HandlerNotFound', `${spec} is undefined or not exported`);
  }
  return fn;
}

function makeContext(headers) {
  const deadline = Number(headers['lambda-runtime-deadline-ms'] || 0);
  const clientContext = headers['lambda-runtime-client-context'];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers['lambda-runtime-aws-request-id'],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: clientContext ? JSON.parse(clientContext) : undefined,
    identity: undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function callHandler(handler, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const done = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== undefined && err !== null) reject(err);
      else resolve(result);
    };
    context.succeed = (result) => done(null, result);
    context.fail = (err) => done(err ?? new Error('handled'));
    context.done = done;
    let returned;
    try {
      returned = handler(event, context, done);
    } catch (err) {
      done(err);
      return;
    }
    if (returned && typeof returned.then === 'function') {
      returned.then((r) => done(null, r), (e) => done(e ?? new Error('Promise rejected')));
    } else if (handler.length < 3) {
      done(null, returned);
    }
  });
}

// An exception that escapes the handler's promise chain fails the invocation and the
// process, as on AWS.
let failCurrent = null;
for (const event of ['uncaughtException', 'unhandledRejection']) {
  process.on(event, async (err) => {
    if (failCurrent) {
      await failCurrent(err);
    } else {
      process.stderr.write(`${util.format(err)}\n`);
    }
    process.exit(128);
  });
}

async function main() {
  let handler;
  try {
    handler = await loadHandler(process.env._HANDLER || '');
  } catch (err) {
    await postInitError(err);
    return;
  }
  for (;;) {
    const next = await request('GET', '/2018-06-01/runtime/invocation/next');
    if (next.status !== 200) {
      await new Promise((r) => setTimeout(r, 50));
      continue;
    }
    const requestId = next.headers['lambda-runtime-aws-request-id'];
    currentRequestId = requestId;
    if (next.headers['lambda-runtime-trace-id']) process.env._X_AMZN_TRACE_ID = next.headers['lambda-runtime-trace-id'];
    const base = `/2018-06-01/runtime/invocation/${requestId}`;
    const postError = async (err) => {
      const doc = errorDocument(err);
      process.stderr.write(
        `${new Date().toISOString()}\t${requestId}\tERROR\tInvoke Error \t${JSON.stringify(doc)}\n`,
      );
      await request('POST', `${base}/error`, JSON.stringify(doc), {
        'Content-Type': 'application/json',
        'Lambda-Runtime-Function-Error-Type': 'Unhandled',
      });
    };
    failCurrent = postError;
    let event;
    try {
      event = next.body.length ? JSON.parse(next.body.toString('utf8')) : {};
    } catch (err) {
      await postError(new InitError('Runtime.UnmarshalError', `Unable to parse input as JSON: ${err.message}`));
      continue;
    }
    let body;
    try {
      const result = await callHandler(handler, event, makeContext(next.headers));
      body = JSON.stringify(result === undefined ? null : result);
    } catch (err) {
      failCurrent = null;
      await postError(err);
      continue;
    }
    failCurrent = null;
    await request('POST', `${base}/response`, body, { 'Content-Type': 'application/json' });
  }
}

main();
