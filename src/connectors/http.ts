/**
 * The HTTP connector: `uses: http` for a one-off request to a full URL, and
 * `uses: <connection>.request` for a request relative to a named connection's base URL and auth.
 */
import type { ConnectorSpec, FieldSpec, OperationSpec } from './spec.js';

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

const common: Readonly<Record<string, FieldSpec>> = {
  method: { type: 'string', description: 'HTTP method.', enum: METHODS, default: 'GET' },
  query: { type: 'object', description: 'Query parameters, appended to the URL.', example: { status: 'open' } },
  headers: { type: 'object', description: 'Request headers.' },
  json: { type: 'any', description: 'A body sent as JSON (Content-Type: application/json).' },
  form: { type: 'object', description: 'A body sent as application/x-www-form-urlencoded.' },
  body: { type: 'string', description: 'A raw body, sent as given.' },
  ok_status: {
    type: ['array', 'string'],
    description: 'Which statuses count as success: a list of codes or ranges such as [200, "3xx"]. Default 2xx.',
    example: ['2xx', 404],
  },
  max_response_bytes: { type: 'integer', description: 'Largest response body read; a larger one fails the step. Default 10 MiB.' },
};

const exclusive = [['json', 'form', 'body']] as const;
const output = '`{ status, headers, body }`; body is parsed when the response is JSON.';

const standalone: OperationSpec = {
  summary: 'Send one HTTP request to a full URL.',
  fields: {
    url: { type: 'string', description: 'The full URL, e.g. https://api.example.com/v1/contacts.', required: true },
    ...common,
    auth: { type: 'object', description: 'Auth for this request: bearer, basic, api_key or oauth2, as on a connection.' },
  },
  exclusive,
  output,
};

const request: OperationSpec = {
  summary: "Send an HTTP request relative to the connection's base URL, with its auth and headers.",
  fields: {
    path: { type: 'string', description: 'Path relative to the base URL, e.g. /contacts.', required: true },
    ...common,
  },
  exclusive,
  output,
};

export const httpSpec: ConnectorSpec = {
  name: 'http',
  summary: 'HTTP requests to any JSON or form API.',
  standalone,
  operations: { request },
};
