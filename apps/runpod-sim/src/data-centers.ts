/** The data centres the sim pretends to have. Every GPU type is offered in all of them, from one shared pool per type. */
export interface DataCenter {
  id: string;
  name: string;
  countryCode: string;
}

const TABLE: ReadonlyArray<readonly [string, string, string]> = [
  ["EU-RO-1", "Europe Romania 1", "RO"],
  ["US-KS-2", "US Kansas 2", "US"],
  ["US-TX-3", "US Texas 3", "US"],
  ["US-GA-2", "US Georgia 2", "US"],
  ["US-IL-1", "US Illinois 1", "US"],
  ["US-CA-2", "US California 2", "US"],
  ["CA-MTL-1", "Canada Montreal 1", "CA"],
  ["EU-SE-1", "Europe Sweden 1", "SE"],
  ["EU-CZ-1", "Europe Czechia 1", "CZ"],
  ["EU-NL-1", "Europe Netherlands 1", "NL"],
  ["EU-FR-1", "Europe France 1", "FR"],
  ["EUR-IS-1", "Europe Iceland 1", "IS"],
  ["EUR-NO-1", "Europe Norway 1", "NO"],
  ["OC-AU-1", "Oceania Australia 1", "AU"],
  ["AP-JP-1", "Asia Japan 1", "JP"],
];

export const DATA_CENTERS: readonly DataCenter[] = TABLE.map(([id, name, countryCode]) => ({ id, name, countryCode }));
export const DEFAULT_DATA_CENTER = "EU-RO-1";

export const dataCenter = (id: string): DataCenter | undefined => DATA_CENTERS.find((dc) => dc.id === id);

/** The CUDA version every simulated host reports. */
export const HOST_CUDA_VERSION = "12.8";

/** major.minor compared numerically (12.11 > 12.2). */
export function cudaAtLeast(version: string, floor: string): boolean {
  const [a = 0, b = 0] = version.split(".").map(Number);
  const [c = 0, d = 0] = floor.split(".").map(Number);
  return a !== c ? a > c : b >= d;
}
