import { quantizationOf } from "../deployment/hyperparameters";

/**
 * bitsandbytes, installed on the pod only when the deployment loads its base model quantized (hyperparameter
 * `quantization` 4bit or 8bit: QLoRA, issue 26 item 3); start.sh installs the pins it is given.
 * trainer/requirements-quantization.txt is its one source (quantization-requirement.test.ts checks they agree).
 */
export const QUANTIZATION_REQUIREMENT = "bitsandbytes==0.50.2";

/** The pins the pod installs, with bitsandbytes when the hyperparameters ask for quantization. */
export function withQuantization(pins: string, hyperparameters: Record<string, unknown> | undefined): string {
  return quantizationOf(hyperparameters) === "none" ? pins : `${pins} ${QUANTIZATION_REQUIREMENT}`;
}
