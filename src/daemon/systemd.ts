/**
 * `flux daemon --print-systemd`: a systemd service unit that runs this daemon as it was asked
 * to run, so an operator gets a unit that is right by construction instead of copying one.
 * ExecStart names node and flux by absolute path with the same workflow paths and flags;
 * `Restart=on-failure` brings it back after a crash (the store resumes the runs), except after
 * exit 2, a configuration error no restart fixes; SIGTERM is the daemon's clean stop, and
 * `TimeoutStopSec` leaves room past the grace period before systemd kills it; SIGHUP (systemctl
 * reload) re-reads the workflows. Secrets come from an `EnvironmentFile`, never the unit.
 */

export interface SystemdOptions {
  /** Absolute path of the node binary. */
  readonly node: string;
  /** Absolute path of flux's bin script. */
  readonly bin: string;
  /** Absolute workflow paths. */
  readonly paths: readonly string[];
  /** Absolute state directory. */
  readonly stateDir: string;
  /** Flags to pass through, already in command-line form (`--port`, `8787`, …). */
  readonly flags: readonly string[];
  readonly graceMs: number;
  /** The user to run as; without one, systemd makes a user for the service (DynamicUser). */
  readonly user?: string | undefined;
  /** The secrets file (NAME=value lines) systemd reads into the environment. */
  readonly environmentFile: string;
}

/** Where systemd keeps services' state: a state directory here can be a `StateDirectory=`. */
const VAR_LIB = '/var/lib/';
/** Time past the grace period for the daemon to checkpoint and release the store. */
const STOP_MARGIN_S = 15;

/** The unit's text. */
export function systemdUnit(o: SystemdOptions): string {
  const state = o.stateDir.replace(/\/+$/, '');
  const managed = state.startsWith(VAR_LIB) && state.length > VAR_LIB.length;
  const command = [o.node, o.bin, 'daemon', ...o.paths, '--state-dir', state, ...o.flags].map(quote).join(' ');
  const lines = [
    '# flux daemon: serves webhooks and runs workflows durably.',
    '# Install: save as /etc/systemd/system/flux.service, then `systemctl daemon-reload && systemctl enable --now flux`.',
    '[Unit]',
    'Description=flux daemon (workflows that run themselves)',
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${command}`,
    // systemctl reload: the daemon re-reads its workflow files on SIGHUP.
    'ExecReload=/bin/kill -HUP $MAINPID',
    ...(o.user !== undefined ? [`User=${o.user}`] : ['DynamicUser=yes']),
    ...(managed ? [`StateDirectory=${state.slice(VAR_LIB.length)}`, 'StateDirectoryMode=0700'] : [`ReadWritePaths=${quote(state)}`]),
    `WorkingDirectory=${pathSetting(state)}`,
    '# Secrets the workflows declare, one NAME=value per line (mode 0600, owned by root).',
    `EnvironmentFile=${pathSetting(o.environmentFile)}`,
    'Environment=NODE_ENV=production',
    'Restart=on-failure',
    'RestartSec=2s',
    '# Exit 2 is a configuration error (a workflow with lint errors, the state directory in use): a restart would not fix it.',
    'RestartPreventExitStatus=2',
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${Math.ceil(o.graceMs / 1000) + STOP_MARGIN_S}s`,
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=strict',
    'ProtectHome=read-only',
    'ProtectKernelTunables=yes',
    'ProtectControlGroups=yes',
    'RestrictSUIDSGID=yes',
    'LimitNOFILE=65536',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ];
  return lines.join('\n');
}

/** A path setting that takes the rest of the line as it is: only `%` (a specifier) needs doubling. */
function pathSetting(path: string): string {
  return path.replace(/%/g, '%%');
}

/**
 * One word of a systemd command line or path setting: `%` is a specifier and `$` expands a
 * variable, so both are doubled; a word with spaces, quotes or backslashes is double-quoted
 * with C-style escapes.
 */
export function quote(word: string): string {
  const escaped = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (escaped !== '' && /^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}
