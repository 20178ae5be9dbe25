/**
 * owner: every workflow names who is accountable for it: an email address or a handle, or a
 * team (`{ team, members, backup }`) whose members and backup are each one of those.
 */
import { asRecord } from '../../workflow/model.js';
import type { FileRule } from '../rule.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HANDLE = /^@?[A-Za-z0-9][A-Za-z0-9._/-]*$/;

export const owner: FileRule = {
  id: 'owner',
  description: 'A workflow must have an owner: an email address, a handle such as @ops-team, or a team with members.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const value = a.workflow.owner;
    if (!('owner' in a.workflow)) {
      report({ at: { line: 1, column: 1 }, message: 'workflow has no `owner`; name who is accountable for it and gets its escalations (an email or a handle such as @ops-team)' });
      return;
    }
    const team = asRecord(value);
    if (team) {
      // Shapes are the schema's; each name given must be someone flux can tell apart.
      const names: [string | number, unknown][] = [['team', team.team], ['backup', team.backup], ...(Array.isArray(team.members) ? team.members.map((m, i): [number, unknown] => [i, m]) : [])];
      for (const [key, name] of names) {
        if (typeof name !== 'string' || name.trim() === '') continue;
        if (!EMAIL.test(name.trim()) && !HANDLE.test(name.trim())) {
          const path = typeof key === 'number' ? ['owner', 'members', key] : ['owner', key];
          report({ at: a.source.locate(path), message: `owner ${typeof key === 'number' ? 'member' : key} \`${name}\` is neither an email address nor a handle such as @ops-team` });
        }
      }
      return;
    }
    if (typeof value !== 'string') return; // the schema reports the wrong type
    if (value.trim() === '') {
      report({ at: a.source.locate(['owner']), message: '`owner` is empty; name who is accountable for this workflow (an email or a handle such as @ops-team)' });
    } else if (!EMAIL.test(value.trim()) && !HANDLE.test(value.trim())) {
      report({ at: a.source.locate(['owner']), message: `owner \`${value}\` is neither an email address nor a handle such as @ops-team` });
    }
  },
};
