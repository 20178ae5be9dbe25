/**
 * The registry of lint rules, sorted by id. Each rule lives in its own file.
 */
import type { Rule } from '../rule.js';
import { approvalInputs } from './approval-inputs.js';
import { approvalOnTimeout } from './approval-on-timeout.js';
import { approvalQuorum } from './approval-quorum.js';
import { connectionAuth } from './connection-auth.js';
import { connector } from './connector.js';
import { cron } from './cron.js';
import { cronDayFields } from './cron-day-fields.js';
import { duplicateStepId } from './duplicate-step-id.js';
import { duration } from './duration.js';
import { escalationTarget } from './escalation-target.js';
import { eventCycle } from './event-cycle.js';
import { expressionSyntax } from './expression-syntax.js';
import { expressionType } from './expression-type.js';
import { inputsSchema } from './inputs-schema.js';
import { noEscalation } from './no-escalation.js';
import { owner } from './owner.js';
import { pollCursor } from './poll-cursor.js';
import { pollInterval } from './poll-interval.js';
import { responseStep } from './response-step.js';
import { secretReference } from './secret-reference.js';
import { stepReference } from './step-reference.js';
import { timeoutScope } from './timeout-scope.js';
import { timezone } from './timezone.js';
import { unconsumedEvent } from './unconsumed-event.js';
import { unknownContext } from './unknown-context.js';
import { unreachableStep } from './unreachable-step.js';
import { webhookPath } from './webhook-path.js';
import { webhookSignature } from './webhook-signature.js';

export const rules: readonly Rule[] = [
  approvalInputs,
  approvalOnTimeout,
  approvalQuorum,
  connectionAuth,
  connector,
  cron,
  cronDayFields,
  duplicateStepId,
  duration,
  escalationTarget,
  eventCycle,
  expressionSyntax,
  expressionType,
  inputsSchema,
  noEscalation,
  owner,
  pollCursor,
  pollInterval,
  responseStep,
  secretReference,
  stepReference,
  timeoutScope,
  timezone,
  unconsumedEvent,
  unknownContext,
  unreachableStep,
  webhookPath,
  webhookSignature,
];
