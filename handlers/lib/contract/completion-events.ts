/**
 * The completion events' names, agreed between the processor that publishes them, the bus's rules
 * (components/completion-events.ts) and the local runtime's stand-in.
 */
export const EVENT_SOURCE = "image-pipeline";
export const DETAIL_TYPES = { done: "Image Processed", failed: "Image Failed" } as const;
export type CompletionDetailType = (typeof DETAIL_TYPES)[keyof typeof DETAIL_TYPES];
