export { createRedis, type Redis } from "./redis";
export { closeQueues, createQueues, type Queues } from "./queues";
