import { Command, CommanderError, Option } from "commander";
import { ApiClient } from "./api-client";
import * as account from "./commands/account";
import { listArtifacts } from "./commands/artifacts";
import * as datasets from "./commands/datasets";
import * as deployments from "./commands/deployments";
import * as spend from "./commands/spend";
import { cacheCommands } from "./commands/cache";
import * as secrets from "./commands/secrets";
import { logs } from "./commands/logs";
import { pull } from "./commands/pull";
import { resume } from "./commands/resume";
import { loadConfig } from "./config";
import { CliError, EXIT, type ExitCode } from "./exit-codes";

const collect = (value: string, previous: string[] = []) => [...previous, value];

const EXIT_HELP = `
Exit codes:
  0  done (watch, deploy --watch: the run SUCCEEDED; pull: every file's sha256 verified)
  1  error: the API refused (pre-flight problems are listed), was unreachable, or not confirmed;
     pull: a file's sha256 did not match (its .part is deleted), or a path would leave the folder
  2  bad usage
  3  the watched run FAILED
  4  the watched run was CANCELLED

Configuration: \`trainpod login\` stores the API URL and key in $TRAINPOD_CONFIG_DIR/config.json
(default ~/.config/trainpod, mode 0600); TRAINPOD_API_URL and TRAINPOD_API_KEY override it.`;

/** Builds the command tree; each action stores its exit code in `result.code`. */
export function buildProgram(result: { code: ExitCode }): Command {
  const api = () => new ApiClient(loadConfig());
  const done = (p: Promise<ExitCode>) => p.then((c) => void (result.code = c));
  const program = new Command("trainpod")
    .description("Fine-tune models on RunPod GPUs without wasting a dollar: upload, estimate, deploy, watch.")
    .version("0.1.0")
    .addHelpText("after", EXIT_HELP)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });

  program
    .command("login")
    .description("store the API URL and key (checked against the API first)")
    .option("--api-url <url>", "the trainpod API (default http://127.0.0.1:8080)")
    .option("--key <key>", "an API key (else TRAINPOD_API_KEY, the prompt, or stdin)")
    .action((opts) => done(account.login(opts)));

  const ds = program.command("datasets").description("upload and list JSONL datasets");
  ds.command("upload")
    .argument("<file>", "a JSONL file: chat `messages` or `prompt`/`completion` per line")
    .option("--name <name>", "dataset name (default: the file name)")
    .option("--json", "print the dataset as JSON")
    .description("upload a dataset, with a progress bar")
    .action((file: string, opts) => done(datasets.uploadDataset(api(), file, opts)));
  ds.command("list")
    .option("--limit <n>", "how many", "20")
    .option("--json", "print JSON")
    .description("your datasets")
    .action((opts) => done(datasets.listDatasets(api(), opts)));

  program
    .command("deploy")
    .description("check, estimate and submit a fine-tuning run (asks before spending unless --yes)")
    .option("-f, --file <path>", "the request as JSON or YAML; flags override its fields")
    .option("--dataset <id>", "dataset id")
    .option("--model <name>", "base model")
    .option("--gpu <type>", "a RunPod GPU type id, in priority order (repeat)", collect)
    .option("--gpu-count <n>", "GPUs per pod")
    .addOption(new Option("--cloud <type>", "RunPod cloud").choices(["SECURE", "COMMUNITY", "secure", "community"]))
    .option("--image <image>", "container image")
    .option("--max-runtime <minutes>", "terminate after this many minutes")
    .option("--max-cost <usd>", "terminate when the pod has cost this much")
    .option("--setup-timeout <minutes>", "fail if training has not started by then")
    .option("--hp <key=value>", "a hyperparameter (repeat)", collect)
    .option("--expected-runtime <minutes>", "for the estimate: how long you expect the run to take")
    .option("--idempotency-key <key>", "submitting twice with the same key creates one deployment")
    .option("-y, --yes", "do not ask for confirmation")
    .option("-w, --watch", "then watch the run; exit code as for `watch`")
    .option("--wait", "the same as --watch")
    .option("--pull <dir>", "wait for the run, then pull its artifacts into <dir> if it SUCCEEDED")
    .option("--json", "print the deployment and estimate as JSON")
    .action((opts) => done(deployments.deploy(api(), opts)));

  program
    .command("status")
    .argument("<id>", "deployment id")
    .option("--events <n>", "how many recent events", "10")
    .option("--json", "print JSON")
    .description("one deployment")
    .action((id: string, opts) => done(deployments.status(api(), id, opts)));
  program
    .command("watch")
    .argument("<id>", "deployment id")
    .description("follow a run live; exits 0 if it SUCCEEDED, 3 FAILED, 4 CANCELLED")
    .action((id: string) => done(deployments.watch(api(), id)));
  program
    .command("logs")
    .argument("<id>", "deployment id")
    .option("-f, --follow", "keep following new lines until the pod ends")
    .option("--source <source>", "container or system (default both)")
    .option("--tail <n>", "lines of backfill (default 100)")
    .description("the pod's own log lines from RunPod")
    .action((id: string, opts) => done(logs(api(), id, opts)));
  program
    .command("artifacts")
    .argument("<id>", "deployment id")
    .option("--json", "print JSON")
    .description("the files a run produced (adapter, tokenizer, ...): path, size, sha256")
    .action((id: string, opts) => done(listArtifacts(api(), id, opts)));
  program
    .command("pull")
    .argument("<id>", "deployment id")
    .argument("[dir]", "where to put the files (default ./<id>)")
    .option("--json", "print the files and their sha256 as JSON")
    .description("download a run's artifacts, resuming partial files (.part), each checked against its sha256")
    .action((id: string, dir: string | undefined, opts) => done(pull(api(), id, dir, opts)));
  const sec = program
    .command("secrets")
    .description("your secrets (HF_TOKEN, WANDB_API_KEY, ...): env of the pods of deployments that name them");
  sec
    .command("set")
    .argument("<name>", "an environment variable name, e.g. HF_TOKEN")
    .description("set a secret: the value from stdin when piped, else a prompt that shows nothing (never an argument)")
    .action((name: string) => done(secrets.setSecret(api(), name)));
  sec
    .command("list")
    .option("--json", "print JSON")
    .description("your secrets' names and dates (values are never shown)")
    .action((opts) => done(secrets.listSecrets(api(), opts)));
  sec
    .command("rm")
    .argument("<name>", "the secret's name")
    .description("delete a secret")
    .action((name: string) => done(secrets.removeSecret(api(), name)));
  program
    .command("spend")
    .option("--json", "print JSON")
    .description("your limits and this month's spend")
    .action((opts) => done(spend.ownSpend(api(), opts)));
  const admin = program
    .command("admin")
    .description("operators: spend against limits per user, and each user's limits");
  admin
    .command("spend")
    .option("--json", "print JSON")
    .description("spend against limit per user this month")
    .action((opts) => done(spend.adminSpend(api(), opts)));
  admin
    .command("limits")
    .argument("<user>", "the user's id or email")
    .option("--budget-usd <usd>", 'monthly budget in USD (0 = none; "default": the server\'s)')
    .option("--on-exceed <rule>", "block (no new run starts) or stop (running ones are stopped too), or default")
    .option("--max-live <n>", 'deployments holding a pod at once (0 = no limit, or "default")')
    .option("--max-gpus <n>", 'GPUs at once (0 = no limit, or "default")')
    .option(
      "--allow-image <glob>",
      "an image pattern this user may use besides ALLOWED_IMAGES (repeat; replaces the user's list)",
      collect,
    )
    .option("--reset", "back to the server's defaults for everything")
    .option("--json", "print JSON")
    .description("set one user's limits (admins)")
    .action((user: string, opts) => done(spend.setLimits(api(), user, opts)));
  cacheCommands(admin, api, done);
  program
    .command("resume")
    .argument("<id>", "deployment id of an interrupted run (FAILED or CANCELLED)")
    .option("--watch", "follow the new attempt to its end")
    .option("--json", "print JSON")
    .description("resume an interrupted run from its last checkpoint: a new attempt, linked to it")
    .action((id: string, opts) => done(resume(api(), id, opts)));
  program
    .command("cancel")
    .argument("<id>", "deployment id")
    .description("cancel a run; its pod is terminated")
    .action((id: string) => done(deployments.cancel(api(), id)));
  program
    .command("list")
    .description("your deployments, newest first")
    .option("--status <status>", "only this status")
    .option("--limit <n>", "how many", "20")
    .option("--json", "print JSON")
    .action((opts) => done(deployments.list(api(), opts)));
  return program;
}

/** Runs the CLI; resolves with the process exit code. */
export async function run(argv: string[]): Promise<ExitCode> {
  const result: { code: ExitCode } = { code: EXIT.OK };
  try {
    await buildProgram(result).parseAsync(argv);
    return result.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return err instanceof CliError ? err.exitCode : EXIT.ERROR;
  }
}
