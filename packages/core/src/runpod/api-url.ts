/** RunPod REST API v2. `RUNPOD_API_URL` overrides it (the simulator: `http://127.0.0.1:PORT/v2`). */
export const RUNPOD_API_V2_URL = "https://api.runpod.io/v2";
