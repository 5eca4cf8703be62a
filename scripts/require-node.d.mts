export function minimumOf(range: string): [number, number, number];
export function nodeRefusal(version: string, range: string, executable: string): string | undefined;
