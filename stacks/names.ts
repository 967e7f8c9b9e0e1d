/** Pulumi logical names: SST components want letters and digits only; `tm-ingestion` becomes `TmIngestion`. */
export function logicalName(...parts: string[]): string {
  return parts
    .flatMap((part) => part.split(/[^A-Za-z0-9]+/))
    .filter(Boolean)
    .map((word) => word[0]!.toUpperCase() + word.slice(1))
    .join('');
}
