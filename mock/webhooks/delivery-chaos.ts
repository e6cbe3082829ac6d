// The dispatcher's hook for chaos (mock/chaos/ decides; the dispatcher only obeys): asked once
// per delivery attempt, before it is made. Everything it may ask for is what a correct but
// unreliable sender does — late, out of order, at least once — never a broken signature or body.

export type DeliveryChaosDecision = {
  /** Wait this long on the sandbox clock before making the attempt (0: at once). */
  holdMs: number;
  /** Send the attempt, then drop the receiver's answer: the attempt is recorded as failed and retried. */
  dropAnswer: boolean;
  /** After a successful attempt, send the same delivery once more (not recorded as an attempt). */
  duplicate: boolean;
  /** How to describe it (logs, the inspector). */
  description: string;
};

export type DeliveryChaos = (attempt: { deliveryId: string; eventType: string; attempt: number }) => DeliveryChaosDecision | undefined;

/** The `error` of an attempt whose answer chaos dropped. */
export const DROPPED_ANSWER_ERROR = "chaos: the receiver's answer was dropped";
