/** owner: every workflow names who is accountable for it: an email address or a handle. */
import type { FileRule } from '../rule.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const HANDLE = /^@?[A-Za-z0-9][A-Za-z0-9._/-]*$/;

export const owner: FileRule = {
  id: 'owner',
  description: 'A workflow must have an owner: an email address or a handle such as @ops-team.',
  severity: 'error',
  scope: 'file',
  check(a, report) {
    const value = a.workflow.owner;
    if (!('owner' in a.workflow)) {
      report({ at: { line: 1, column: 1 }, message: 'workflow has no `owner`; name who is accountable for it and gets its escalations (an email or a handle such as @ops-team)' });
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
