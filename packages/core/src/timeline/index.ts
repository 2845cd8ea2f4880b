// A deployment's timeline as a live stream (the API's SSE): one reader per process, resumable, with bounded slots.
export { TimelineHub, type TimelineHubOptions, type TimelineListener } from "./timeline-hub";
export { parseLastEventId, timelineComplete } from "./event-stream";
export { StreamSlots, type StreamLimits } from "./stream-slots";
