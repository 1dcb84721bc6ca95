/** Who is calling: the credential that authenticated the request, and its org. */
export interface Principal {
  readonly clientId: string;
  /** The credential's name: recorded as createdBy / lastModifiedBy / lastDeployedBy. */
  readonly name: string;
  readonly orgId: string;
}

/** A production sandbox the request targets (`x-sandbox-name`). */
export interface SandboxRef {
  readonly id: string;
  readonly name: string;
}
