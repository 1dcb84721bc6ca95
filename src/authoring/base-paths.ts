/** Base paths the authoring API answers on (CONTRACT §1). */
export const AUTHORING_BASE_PATHS = ["/authoring", "/journey/orchestration"] as const;
