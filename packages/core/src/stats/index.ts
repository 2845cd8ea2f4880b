export { MAX_STATS_WINDOW_DAYS, parseStatsQuery, statsQuerySchema, type StatsWindow } from "./params";
export { statsReport, successRate, type StatsReport } from "./report";
