/** Branded ids: a CaseId can never be passed where an ArtifactId is expected. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
export type CaseId = Brand<number, 'CaseId'>;
export type HostId = Brand<number, 'HostId'>;
export type RunId = Brand<number, 'RunId'>;
export type StepId = Brand<number, 'StepId'>;
export type ArtifactId = Brand<number, 'ArtifactId'>;
export type EventId = Brand<number, 'EventId'>;
export type FindingId = Brand<number, 'FindingId'>;
export type AnnotationId = Brand<number, 'AnnotationId'>;
