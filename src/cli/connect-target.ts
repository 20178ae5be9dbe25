/**
 * What `flux connect NAME` authorizes: the endpoints, client, scopes and secret name, from a
 * named connector's spec, or from a connection's `oauth2` block in a workflow file
 * (`--workflow`), with the command's flags over either. Every mistake is a UsageError.
 */
import { connectorOf } from '../connectors/connection.js';
import { closest, connectorSpecs } from '../connectors/index.js';
import { escapeControl } from '../text/escape.js';
import { asRecord } from '../workflow/model.js';
import { loadFile } from '../workflow/source.js';
import { UsageError, type Io } from './io.js';

export interface ConnectFlags {
  readonly workflow?: string;
  readonly clientId?: string;
  readonly clientSecret?: string;
  readonly scope?: readonly string[];
  readonly authorizeUrl?: string;
  readonly tokenUrl?: string;
  readonly secret?: string;
}

/** Everything the flow needs, checked. */
export interface ConnectTarget {
  readonly authorizeUrl: URL;
  readonly tokenUrl: URL;
  readonly clientId: string;
  readonly clientSecret?: string;
  readonly scopes: readonly string[];
  readonly extra: Readonly<Record<string, string>>;
  /** The secret the refresh token is to be stored as (FLUX name rules: A-Z, 0-9, _). */
  readonly secretName: string;
}

/** The env variable `--client-secret` may be left to, so the secret stays out of `ps` and shell history. */
export const CLIENT_SECRET_ENV = 'FLUX_CLIENT_SECRET';

interface Found {
  authorizeUrl?: string;
  tokenUrl?: string;
  clientId?: string;
  clientSecret?: string;
  scopes: readonly string[];
  extra: Readonly<Record<string, string>>;
  secretName?: string;
}

/** Resolves NAME and the flags into a target, or throws a UsageError saying what is missing. */
export async function connectTarget(name: string, flags: ConnectFlags, io: Io): Promise<ConnectTarget> {
  const base = flags.workflow ? await fromWorkflow(name, flags.workflow, io) : fromConnector(name, flags);
  const clientId = flags.clientId ?? base.clientId;
  if (!clientId) throw new UsageError(`connect ${name} needs the OAuth client's id: give --client-id (from the app you registered with the vendor)`);
  const clientSecret = flags.clientSecret ?? io.env[CLIENT_SECRET_ENV] ?? base.clientSecret;
  const authorize = flags.authorizeUrl ?? base.authorizeUrl;
  const token = flags.tokenUrl ?? base.tokenUrl;
  if (!authorize || !token) throw new UsageError(`connect ${name}: no ${authorize ? 'token' : 'authorization'} endpoint is known; give --authorize-url and --token-url`);
  const secretName = flags.secret ?? base.secretName ?? `${name.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_REFRESH_TOKEN`;
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(secretName)) throw new UsageError(`--secret takes a secret name (letters, digits, _), not \`${escapeControl(secretName)}\``);
  return {
    authorizeUrl: endpoint(authorize, '--authorize-url'),
    tokenUrl: endpoint(token, '--token-url'),
    clientId,
    ...(clientSecret ? { clientSecret } : {}),
    scopes: flags.scope && flags.scope.length > 0 ? flags.scope.flatMap((s) => s.split(/\s+/)).filter((s) => s !== '') : base.scopes,
    extra: base.extra,
    secretName,
  };
}

function fromConnector(name: string, flags: ConnectFlags): Found {
  const spec = connectorSpecs[name];
  if (spec?.oauth?.authorizeUrl) return { authorizeUrl: spec.oauth.authorizeUrl, tokenUrl: spec.oauth.tokenUrl, scopes: spec.oauth.scopes, extra: spec.oauth.authorizeParams ?? {} };
  if (spec?.oauth && !(flags.authorizeUrl && flags.tokenUrl)) {
    throw new UsageError(`connector \`${name}\` takes client credentials (its connection's \`oauth2\` block with client_id and client_secret): there is no user to authorize, so no refresh token to get`);
  }
  if (flags.authorizeUrl && flags.tokenUrl) return { scopes: [], extra: {} };
  const withOAuth = Object.values(connectorSpecs).filter((s) => s.oauth?.authorizeUrl).map((s) => s.name);
  const guess = spec ? undefined : closest(name, withOAuth);
  const what = spec ? `connector \`${name}\` has no OAuth endpoints in its spec` : `\`${escapeControl(name)}\` is not a connector with OAuth${guess ? `; did you mean \`${guess}\`?` : ''}`;
  throw new UsageError(`${what}. Connectors with OAuth: ${withOAuth.join(', ')}; for a connection in a workflow file add --workflow FILE; for another provider give --authorize-url and --token-url`);
}

/** The connection `name` of a workflow file: its connector's endpoints, then its `oauth2` block over them. */
async function fromWorkflow(name: string, path: string, io: Io): Promise<Found> {
  const loaded = await loadFile(path, path);
  if (!loaded.ok) {
    const first = loaded.diagnostics[0];
    throw new UsageError(`--workflow ${path}: ${loaded.unreadable ? `cannot read the file: ${loaded.unreadable}` : `${first ? `${first.line}:${first.column}: ${first.message}` : 'not a workflow'}; run flux lint on it`}`);
  }
  const connections = asRecord(loaded.source.value.connections) ?? {};
  const connection = asRecord(connections[name]);
  if (!connection) {
    const guess = closest(name, Object.keys(connections));
    throw new UsageError(`--workflow ${path}: no connection \`${escapeControl(name)}\`${guess ? `; did you mean \`${guess}\`?` : ''}`);
  }
  const spec = connectorSpecs[connectorOf(connection) ?? 'http'];
  const oauth2 = asRecord(asRecord(connection.auth)?.oauth2);
  if (!oauth2) throw new UsageError(`--workflow ${path}: connection \`${name}\` has no \`auth: { oauth2: ... }\` block`);
  const value = (key: string): string | undefined => templateValue(oauth2[key], `connections.${name}.auth.oauth2.${key}`, io);
  const scope = value('scope');
  const refresh = typeof oauth2.refresh_token === 'string' ? /^\$\{\{\s*secrets\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(oauth2.refresh_token)?.[1] : undefined;
  const authorizeUrl = value('authorize_url') ?? spec?.oauth?.authorizeUrl;
  const tokenUrl = value('token_url') ?? spec?.oauth?.tokenUrl;
  const clientId = value('client_id');
  const clientSecret = value('client_secret');
  return {
    ...(authorizeUrl ? { authorizeUrl } : {}), ...(tokenUrl ? { tokenUrl } : {}), ...(clientId ? { clientId } : {}), ...(clientSecret ? { clientSecret } : {}),
    scopes: scope !== undefined ? scope.split(/\s+/).filter((s) => s !== '') : spec?.oauth?.scopes ?? [],
    extra: spec?.oauth?.authorizeParams ?? {},
    ...(refresh ? { secretName: refresh } : {}),
  };
}

/**
 * A value of the oauth2 block: a literal, or a whole `${{ secrets.X }}` / `${{ env.X }}`
 * read from the environment (unset: undefined, so a flag can give it). Any other expression
 * cannot be evaluated outside a run.
 */
function templateValue(raw: unknown, where: string, io: Io): string | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'string') throw new UsageError(`${where} must be a string`);
  if (!raw.includes('${{')) return raw;
  const ref = /^\$\{\{\s*(?:secrets|env)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}$/.exec(raw);
  if (!ref) throw new UsageError(`${where} is an expression flux connect cannot evaluate; give the value with a flag`);
  const v = io.env[ref[1]!];
  return v === undefined || v === '' ? undefined : v;
}

/** An endpoint URL: https, or http to this machine only (a local test server). */
function endpoint(text: string, flag: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`${flag}: \`${escapeControl(text)}\` is not a URL`);
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '[::1]';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) throw new UsageError(`${flag}: \`${escapeControl(text)}\` must be an https URL (http only for 127.0.0.1 or localhost)`);
  return url;
}
