/** Examples of the OpenAI-compatible API's objects (the OpenAPI test validates each against its schema). */
const JOB = "ftjob-8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60";
const FILE = "file-3c59dc04-8f2b-4d5e-9a1b-2c3d4e5f6a7b";
const AT = 1_796_649_011;
const autoHp = { n_epochs: 2, batch_size: "auto", learning_rate_multiplier: "auto" };

export const fileExample = {
  id: FILE,
  object: "file",
  bytes: 734_003,
  created_at: AT,
  filename: "chat.jsonl",
  purpose: "fine-tune",
  status: "processed",
  status_details: null,
  expires_at: null,
};

export const jobExample = {
  id: JOB,
  object: "fine_tuning.job",
  created_at: AT,
  finished_at: null,
  model: "Qwen/Qwen2.5-0.5B-Instruct",
  organization_id: "user-0b6f4a52-8d0e-4b8e-9a53-3f1f1f6a2c11",
  status: "running",
  training_file: FILE,
  validation_file: null,
  hyperparameters: autoHp,
  method: { type: "supervised", supervised: { hyperparameters: autoHp } },
  seed: 42,
  fine_tuned_model: null,
  result_files: [],
  trained_tokens: null,
  error: null,
  estimated_finish: AT + 1_800,
  integrations: [],
  metadata: { trainpod_gpu_types: "NVIDIA L40S,NVIDIA A40", trainpod_max_cost_usd: "5" },
  user_provided_suffix: null,
};

export const eventExamples = [
  {
    id: "ftevent-58",
    object: "fine_tuning.job.event",
    created_at: AT + 300,
    level: "info",
    message: "Step 40/100: training loss=1.234, validation loss=1.301",
    type: "metrics",
    data: { step: 40, total_steps: 100, train_loss: 1.234, valid_loss: 1.301 },
  },
  {
    id: "ftevent-41",
    object: "fine_tuning.job.event",
    created_at: AT,
    level: "info",
    message: `Created fine-tuning job: ${JOB}`,
    type: "message",
    data: { trainpod_type: "submitted" },
  },
];

export const checkpointExample = {
  id: "ftckpt-8f14e45f-ceea-467f-a0e6-1b2c3d4e5f60-120",
  object: "fine_tuning.job.checkpoint",
  created_at: AT + 600,
  fine_tuned_model_checkpoint: `ft:Qwen/Qwen2.5-0.5B-Instruct:trainpod:${JOB}:ckpt-step-120`,
  fine_tuning_job_id: JOB,
  step_number: 120,
  metrics: { step: 120 },
  trainpod_path: "checkpoints/step-000120",
};

export const endpointExample = {
  id: "whe_5d41402a-bc4b-4a76-b971-9d911017c592",
  object: "webhook_endpoint",
  created_at: AT,
  updated_at: AT,
  name: "ci hooks",
  url: "https://hooks.example.com/trainpod",
  event_types: ["fine_tuning.job.succeeded", "fine_tuning.job.failed"],
  signing_secret_hint: "whsec_...abcd",
};
