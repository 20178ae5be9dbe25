/**
 * `flux connect NAME`: gets a refresh token for a connection with the OAuth 2.0
 * authorization-code flow and PKCE through a loopback redirect, as gcloud and the GitHub CLI
 * do. It prints the authorization URL (stderr), waits for the browser's redirect to
 * 127.0.0.1, exchanges the code, and prints the refresh token once, on stdout, as an env-file
 * line (`NAME_REFRESH_TOKEN=...`), so `flux connect xero >> .env` stores it as a secret. The
 * token is written nowhere else. Exit 0 printed, 1 the flow failed, 2 usage.
 */
import { spawn } from 'node:child_process';
import { HttpFailure } from '../connectors/http-failure.js';
import { authorizationUrl, newPkce, startLoopback, type Loopback } from '../connectors/oauth/loopback.js';
import { requestTokens } from '../connectors/oauth/token-endpoint.js';
import { Masker } from '../secrets/masker.js';
import { escapeControl } from '../text/escape.js';
import { parseDuration } from '../workflow/duration.js';
import { connectTarget, type ConnectFlags, type ConnectTarget } from './connect-target.js';
import { ExitCode, UsageError, type Io } from './io.js';
import { version } from './version.js';

export interface ConnectOptions extends ConnectFlags {
  readonly port?: number;
  readonly timeout?: string;
  readonly open?: boolean;
}

/** How long flux connect waits for the redirect and the exchange when --timeout is not given. */
export const DEFAULT_CONNECT_TIMEOUT = '5m';

/** Runs the flow for NAME; returns the exit code. Usage mistakes throw UsageError (exit 2). */
export async function connectCommand(name: string, options: ConnectOptions, io: Io): Promise<number> {
  const timeout = parseDuration(options.timeout ?? DEFAULT_CONNECT_TIMEOUT);
  if (!timeout.ok) throw new UsageError(`--timeout: ${timeout.message}`);
  if (timeout.ms < 1000) throw new UsageError('--timeout must be at least 1s');
  const target = await connectTarget(name, options, io);
  const pkce = newPkce();
  // Nothing secret reaches the terminal: what the flow handles is masked in every message.
  const masker = new Masker();
  for (const v of [target.clientSecret, pkce.verifier]) if (v) masker.add(v);
  const fail = (message: string): number => {
    io.stderr.write(`flux connect: ${masker.mask(escapeControl(message))}\n`);
    return ExitCode.problems;
  };

  let loopback: Loopback;
  try {
    loopback = await startLoopback(options.port ?? 0, pkce.state);
  } catch (error) {
    const code = (error as { code?: string }).code;
    throw new UsageError(`cannot listen on 127.0.0.1:${options.port ?? 0}${code === 'EADDRINUSE' ? ': the port is in use; pick another with --port, or leave it out' : `: ${String(code ?? error)}`}`);
  }
  const deadline = AbortSignal.timeout(timeout.ms);
  try {
    const url = authorizationUrl({ authorizeUrl: target.authorizeUrl, clientId: target.clientId, redirectUri: loopback.redirectUri, scopes: target.scopes, pkce, extra: target.extra });
    io.stderr.write(`Open this URL in a browser and authorize flux (waiting up to ${options.timeout ?? DEFAULT_CONNECT_TIMEOUT} for the redirect to ${loopback.redirectUri}):\n\n  ${url.toString()}\n\n`);
    if (options.open) openBrowser(url.toString(), io);

    const redirect = await Promise.race([loopback.redirect, aborted(deadline)]);
    if (redirect === 'timeout') return fail(`no redirect came back within ${options.timeout ?? DEFAULT_CONNECT_TIMEOUT}; run flux connect again (and open the URL it prints)`);
    if (!redirect.ok) return fail(redirect.message);
    masker.add(redirect.code);

    const form = new URLSearchParams({ grant_type: 'authorization_code', code: redirect.code, redirect_uri: loopback.redirectUri, client_id: target.clientId, code_verifier: pkce.verifier });
    if (target.clientSecret) form.set('client_secret', target.clientSecret);
    const { request } = await import('undici');
    let granted;
    try {
      granted = await requestTokens(request, { url: target.tokenUrl, form, signal: deadline, userAgent: `flux/${version()}` });
    } catch (error) {
      if (deadline.aborted) return fail(`the token endpoint ${target.tokenUrl.origin} did not answer within ${options.timeout ?? DEFAULT_CONNECT_TIMEOUT}`);
      if (error instanceof HttpFailure) return fail(error.message);
      const e = error as { code?: string; cause?: { code?: string }; message?: string };
      return fail(`cannot exchange the code at ${target.tokenUrl.origin}: ${e.code ?? e.cause?.code ?? e.message ?? String(error)}`);
    }
    masker.add(granted.accessToken);
    if (!granted.refreshToken) return fail(noRefreshToken(target));
    io.stdout.write(`${target.secretName}=${envValue(granted.refreshToken)}\n`);
    io.stderr.write(storeHint(name, target));
    return ExitCode.ok;
  } finally {
    await loopback.close();
  }
}

/** Resolves 'timeout' when `signal` aborts. */
function aborted(signal: AbortSignal): Promise<'timeout'> {
  return new Promise((resolve) => signal.addEventListener('abort', () => resolve('timeout'), { once: true }));
}

/** The token as an env-file value: as is when plain, else single-quoted (flux's env files read both). */
function envValue(token: string): string {
  return /^[A-Za-z0-9._~+/=:-]+$/.test(token) || token.includes("'") ? token : `'${token}'`;
}

function noRefreshToken(target: ConnectTarget): string {
  return `the token endpoint ${target.tokenUrl.origin} issued an access token but no refresh token, so there is nothing to store. `
    + 'Some vendors issue one only when asked for offline access (Xero: the offline_access scope; Google: access_type=offline, which flux asks for); '
    + 'check the app\'s settings with the vendor and the --scope values';
}

/** What to do with the printed line: store it as a secret and point the connection at it. */
function storeHint(name: string, target: ConnectTarget): string {
  const secret = target.clientSecret ? ', client_secret: "${{ secrets.CLIENT_SECRET }}"' : '';
  return [
    `flux connect: authorized. The refresh token was printed once, on standard output, as the env-file line ${target.secretName}=…; flux keeps no copy.`,
    `Store it as the secret ${target.secretName}: append it to the env file flux reads (flux connect ${name} >> .env), or set it in the environment of flux run / flux daemon.`,
    'Then give the connection:',
    `  auth: { oauth2: { grant: refresh_token, client_id: ${target.clientId}${secret}, refresh_token: "\${{ secrets.${target.secretName} }}" } }`,
    '',
  ].join('\n');
}

/** Asks the desktop to open `url`; says so when it cannot (the URL is printed anyway). */
function openBrowser(url: string, io: Io): void {
  const [command, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  try {
    const child = spawn(command, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => io.stderr.write(`flux connect: could not start ${command}; open the URL above yourself\n`));
    child.unref();
  } catch {
    io.stderr.write(`flux connect: could not start ${command}; open the URL above yourself\n`);
  }
}
