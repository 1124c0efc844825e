"""LoRA / QLoRA fine-tuning of a causal LM on (prompt, answer) pairs, with peft.

Depends on torch, transformers and peft only (plus bitsandbytes for 4-bit NF4 on a GPU), so it
also runs on a bare GPU machine without the rest of the project.

Defaults follow the product brief's run: rank 32, alpha 64, batch 4, 3 epochs, 100 warm-up
steps, evaluation every 100 steps. The loop:
- supervises the answer tokens only (the prompt's labels are masked), and computes the output
  layer only at those positions (Gemma's 262k-token vocabulary makes the full logits the largest
  cost of a step on a CPU);
- runs the forward pass in float32, or in bfloat16 autocast (`precision`);
- appends one JSON line per step to `steps.jsonl` (loss, learning rate, seconds, tokens; a
  resumed run appends the steps it replays after its checkpoint again: the last line counts);
- evaluates the mean token loss on the eval set every `eval_every` steps and at the end;
- stops early when the average of the last `loss_window` training losses reaches
  `stop_at_loss` (0: never);
- saves a checkpoint (adapter weights, optimizer, scheduler, step, loss history, RNG) every
  `save_every` steps, the marker file last, keeping the `keep_checkpoints` newest; a new run over
  the same directory resumes from the newest complete checkpoint and replays the same batches.
"""

import contextlib
import json
import logging
import math
import random
import re
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import torch

from finetune.errors import TrainingError

logger = logging.getLogger(__name__)

MISTRAL_TARGET_MODULES = (
    "q_proj",
    "k_proj",
    "v_proj",
    "o_proj",
    "gate_proj",
    "up_proj",
    "down_proj",
)
STATE_FILE = "trainer_state.pt"
STEP_LOG = "steps.jsonl"
DONE_MARKER = "complete"


@dataclass(frozen=True)
class LoraSettings:
    rank: int = 32
    alpha: int = 64
    dropout: float = 0.05
    batch_size: int = 4
    gradient_accumulation: int = 1
    epochs: float = 3.0
    max_steps: int | None = None  # overrides epochs when set
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_steps: int = 100
    eval_every: int = 100
    save_every: int = 100
    keep_checkpoints: int = 2
    stop_at_loss: float = 0.0
    loss_window: int = 5
    max_length: int = 1024
    quantization: Literal["none", "nf4"] = "none"
    # "auto": bfloat16 autocast on a GPU or on a CPU that computes bfloat16 in hardware.
    precision: Literal["auto", "float32", "bfloat16"] = "float32"
    eval_at_start: bool = False  # the base model's eval loss, as step 0 (not after a resume)
    target_modules: tuple[str, ...] = MISTRAL_TARGET_MODULES
    seed: int = 0

    def __post_init__(self) -> None:
        if self.rank < 1 or self.alpha < 1:
            raise ValueError("LoRA rank and alpha must be at least 1")
        if self.batch_size < 1 or self.gradient_accumulation < 1:
            raise ValueError("batch size and gradient accumulation must be at least 1")
        if self.epochs <= 0 and not self.max_steps:
            raise ValueError("epochs must be positive (or give max_steps)")
        if self.eval_every < 1 or self.save_every < 1:
            raise ValueError("eval_every and save_every must be at least 1")
        if self.stop_at_loss < 0:
            raise ValueError("stop_at_loss must be >= 0")
        if self.quantization not in ("none", "nf4"):
            raise ValueError("quantization must be 'none' or 'nf4'")
        if self.precision not in ("auto", "float32", "bfloat16"):
            raise ValueError("precision must be 'auto', 'float32' or 'bfloat16'")


@dataclass(frozen=True)
class Example:
    """One supervised example: the model reads `prompt` and learns to write `completion`."""

    prompt: str
    completion: str


@dataclass
class TrainingResult:
    steps: int = 0
    total_steps: int = 0
    resumed_from: int | None = None
    stopped: str = "completed"  # "completed", "stop_at_loss", "max_steps"
    train_losses: list[tuple[int, float]] = field(default_factory=list)
    eval_losses: list[tuple[int, float]] = field(default_factory=list)
    seconds: float = 0.0
    tokens: int = 0
    peak_memory_bytes: int | None = None
    adapter_dir: str = ""

    @property
    def tokens_per_second(self) -> float:
        return self.tokens / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tokens_per_second"] = round(self.tokens_per_second, 1)
        return data


# ---------------------------------------------------------------- models


def build_tiny_mistral(
    vocab_size: int,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 2,
    intermediate_size: int = 176,
    max_positions: int = 2048,
    seed: int = 0,
) -> Any:
    """A Mistral-architecture causal LM with random weights, built from a config (no download)."""
    from transformers import MistralConfig, MistralForCausalLM

    torch.manual_seed(seed)
    config = MistralConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=hidden_size // heads,
        max_position_embeddings=max_positions,
        sliding_window=None,
        rms_norm_eps=1e-5,
        rope_parameters={"rope_type": "default", "rope_theta": 10000.0},
        tie_word_embeddings=False,
        bos_token_id=1,
        eos_token_id=2,
        pad_token_id=0,
    )
    return MistralForCausalLM(config)


def build_tiny_gemma3(
    vocab_size: int,
    *,
    hidden_size: int = 64,
    layers: int = 2,
    heads: int = 4,
    kv_heads: int = 1,
    head_dim: int = 16,
    intermediate_size: int = 128,
    max_positions: int = 2048,
    init_std: float = 0.02,
    seed: int = 0,
    bos_token_id: int = 1,
    eos_token_id: int = 2,
    pad_token_id: int = 0,
) -> Any:
    """A Gemma 3 causal LM with random weights and global attention only, built from a config:
    the layout of Gemma 3 270M (grouped queries, query/key norms, tied output) at a test's size.
    Its RMS norm weights are randomised too, so that an exporter that forgets Gemma's `1 + w`
    convention is caught."""
    from transformers import Gemma3ForCausalLM, Gemma3TextConfig

    torch.manual_seed(seed)
    config = Gemma3TextConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        intermediate_size=intermediate_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        head_dim=head_dim,
        query_pre_attn_scalar=head_dim,
        layer_types=["full_attention"] * layers,
        max_position_embeddings=max_positions,
        rms_norm_eps=1e-6,
        initializer_range=init_std,
        tie_word_embeddings=True,
        bos_token_id=bos_token_id,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
    )
    model = Gemma3ForCausalLM(config)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.endswith("norm.weight"):
                parameter.normal_(0.0, 0.3)
    return model


def load_base_model(directory: Path, quantization: str, device: str) -> Any:
    """The base model from a directory, in 4-bit NF4 (bitsandbytes, GPU) or full precision."""
    from transformers import AutoModelForCausalLM

    if quantization == "nf4":
        if device != "cuda":
            raise TrainingError("4-bit NF4 (QLoRA) needs a CUDA GPU; use --quantization none")
        try:
            from transformers import BitsAndBytesConfig
        except ImportError as exc:  # pragma: no cover - depends on the installation
            raise TrainingError("QLoRA needs bitsandbytes") from exc
        config = BitsAndBytesConfig(  # type: ignore[no-untyped-call]
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=torch.bfloat16,
        )
        return AutoModelForCausalLM.from_pretrained(
            str(directory), quantization_config=config, device_map={"": 0}, dtype=torch.bfloat16
        )
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    model: Any = AutoModelForCausalLM.from_pretrained(str(directory), dtype=dtype)
    return model.to(device)


# ---------------------------------------------------------------- data


def encode(
    tokenizer: Any, examples: Sequence[Example], max_length: int
) -> list[dict[str, list[int]]]:
    """Token ids and labels (prompt masked with -100); an example longer than `max_length` keeps
    its answer and loses the start of its prompt, after the BOS token. The BOS token starts every
    example, as llama.cpp adds it at answer time (prompts carry no literal "<s>")."""
    encoded: list[dict[str, list[int]]] = []
    eos = tokenizer.eos_token_id
    bos = tokenizer.bos_token_id
    for example in examples:
        prompt_ids = tokenizer(example.prompt, add_special_tokens=False)["input_ids"]
        if bos is not None and (not prompt_ids or prompt_ids[0] != bos):
            prompt_ids = [bos, *prompt_ids]
        answer_ids = tokenizer(" " + example.completion.strip(), add_special_tokens=False)[
            "input_ids"
        ]
        answer_ids = [*answer_ids, eos][: max(1, max_length // 2)]
        room = max_length - len(answer_ids)
        if len(prompt_ids) > room:
            prompt_ids = prompt_ids[:1] + prompt_ids[len(prompt_ids) - room + 1 :]
        encoded.append(
            {
                "input_ids": [*prompt_ids, *answer_ids],
                "labels": [-100] * len(prompt_ids) + list(answer_ids),
            }
        )
    return encoded


def collate(items: Sequence[dict[str, list[int]]], pad_id: int) -> dict[str, torch.Tensor]:
    length = max(len(item["input_ids"]) for item in items)
    ids = torch.full((len(items), length), pad_id, dtype=torch.long)
    labels = torch.full((len(items), length), -100, dtype=torch.long)
    mask = torch.zeros((len(items), length), dtype=torch.long)
    for row, item in enumerate(items):
        n = len(item["input_ids"])
        ids[row, :n] = torch.tensor(item["input_ids"])
        labels[row, :n] = torch.tensor(item["labels"])
        mask[row, :n] = 1
    return {"input_ids": ids, "labels": labels, "attention_mask": mask}


def supervised_loss(model: Any, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, int]:
    """The summed cross-entropy of the supervised (answer) tokens and their number.

    The decoder runs on the whole sequence but the output layer only on the positions that
    predict a supervised token: the same loss as the model's own, without the full logits."""
    causal = model.get_base_model() if hasattr(model, "get_base_model") else model
    labels = batch["labels"][:, 1:]
    keep = labels != -100
    hidden = causal.get_decoder()(
        input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]
    ).last_hidden_state
    logits = causal.get_output_embeddings()(hidden[:, :-1][keep])
    cap = getattr(causal.config, "final_logit_softcapping", None)
    if cap:
        logits = torch.tanh(logits / cap) * cap
    loss = torch.nn.functional.cross_entropy(logits.float(), labels[keep], reduction="sum")
    return loss, int(keep.sum())


def cpu_computes_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Intel AMX or AVX-512 BF16: bfloat16 matrix products in hardware (else emulated, slower)."""
    try:
        flags = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return re.search(r"\b(amx_bf16|avx512_bf16)\b", flags) is not None


def autocast_dtype(precision: str, device: str) -> torch.dtype | None:
    """The autocast dtype of the forward pass, None for full float32."""
    if precision == "bfloat16" or (
        precision == "auto" and (device == "cuda" or cpu_computes_bfloat16())
    ):
        return torch.bfloat16
    return None


def batch_order(count: int, batch_size: int, epoch: int, seed: int) -> list[list[int]]:
    """The batches of one epoch, shuffled deterministically (the same after a resume)."""
    order = list(range(count))
    random.Random(seed * 1_000_003 + epoch).shuffle(order)  # noqa: S311 - reproducible shuffling, not security
    return [order[i : i + batch_size] for i in range(0, count, batch_size)]


# ---------------------------------------------------------------- training


class LoraTrainer:
    """Trains a LoRA adapter over a base model directory into `out_dir`."""

    def __init__(
        self,
        base_model_dir: Path,
        tokenizer: Any,
        out_dir: Path,
        settings: LoraSettings | None = None,
        *,
        device: str | None = None,
        on_step: Callable[[int, float], None] | None = None,
        init_adapter: Any = None,
    ) -> None:
        """`init_adapter`: a `finetune.gguf_lora.GgufAdapter` a new run starts from (a warm
        start: its weights, a fresh optimizer and schedule); a resumed run ignores it."""
        self.base_model_dir = base_model_dir
        self.init_adapter = init_adapter
        self.tokenizer = tokenizer
        self.out_dir = out_dir
        self.settings = settings or LoraSettings()
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.on_step = on_step
        self.model: Any = None

    @property
    def checkpoint_dir(self) -> Path:
        return self.out_dir / "checkpoints"

    def _build_model(self) -> Any:
        from peft import LoraConfig, get_peft_model, prepare_model_for_kbit_training

        s = self.settings
        base = load_base_model(self.base_model_dir, s.quantization, self.device)
        if s.quantization == "nf4":
            base = prepare_model_for_kbit_training(  # type: ignore[no-untyped-call]
                base, use_gradient_checkpointing=True
            )
        config = LoraConfig(
            r=s.rank,
            lora_alpha=s.alpha,
            lora_dropout=s.dropout,
            target_modules=list(s.target_modules),
            bias="none",
            task_type="CAUSAL_LM",
        )
        return get_peft_model(base, config)

    def latest_checkpoint(self) -> Path | None:
        if not self.checkpoint_dir.is_dir():
            return None
        complete = [
            path
            for path in self.checkpoint_dir.glob("step-*")
            if (path / DONE_MARKER).exists() and path.name.removeprefix("step-").isdigit()
        ]
        return max(complete, key=lambda p: int(p.name.removeprefix("step-")), default=None)

    def _save_checkpoint(
        self, step: int, optimizer: Any, scheduler: Any, result: TrainingResult
    ) -> None:
        from peft import get_peft_model_state_dict

        target = self.checkpoint_dir / f"step-{step}"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        torch.save(
            {
                "step": step,
                "adapter": get_peft_model_state_dict(self.model),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "train_losses": result.train_losses,
                "eval_losses": result.eval_losses,
                "tokens": result.tokens,
                "seconds": result.seconds,
                "settings": asdict(self.settings),
                "python_random": random.getstate(),
                "torch_random": torch.get_rng_state(),
            },
            target / STATE_FILE,
        )
        (target / DONE_MARKER).write_text(str(step), encoding="utf-8")
        older = sorted(
            (p for p in self.checkpoint_dir.glob("step-*") if p != target),
            key=lambda p: int(p.name.removeprefix("step-")) if p.name[5:].isdigit() else -1,
        )
        for stale in older[: max(0, len(older) - self.settings.keep_checkpoints + 1)]:
            shutil.rmtree(stale, ignore_errors=True)

    def _restore(self, path: Path, optimizer: Any, scheduler: Any, result: TrainingResult) -> int:
        from peft import set_peft_model_state_dict

        state = torch.load(path / STATE_FILE, map_location=self.device, weights_only=False)
        set_peft_model_state_dict(self.model, state["adapter"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        result.train_losses = [(int(s), float(v)) for s, v in state["train_losses"]]
        result.eval_losses = [(int(s), float(v)) for s, v in state["eval_losses"]]
        result.tokens = int(state["tokens"])
        result.seconds = float(state["seconds"])
        random.setstate(state["python_random"])
        torch.set_rng_state(state["torch_random"].cpu())
        return int(state["step"])

    def _start_from(self, adapter: Any) -> None:
        from peft import get_peft_model_state_dict, set_peft_model_state_dict

        from finetune.errors import ExportError
        from finetune.gguf_lora import peft_state_from_gguf

        s = self.settings
        if adapter.rank != s.rank or abs(adapter.scale - s.alpha / s.rank) > 1e-6:
            raise TrainingError(
                f"the starting adapter has rank {adapter.rank} and scale {adapter.scale:g}; "
                f"this run: rank {s.rank}, alpha {s.alpha} (scale {s.alpha / s.rank:g})"
            )
        try:
            state = peft_state_from_gguf(adapter, get_peft_model_state_dict(self.model).keys())
        except ExportError as exc:
            raise TrainingError(f"cannot start from the adapter: {exc}") from exc
        set_peft_model_state_dict(self.model, {k: v.to(self.device) for k, v in state.items()})
        logger.info("starting from an adapter of %d LoRA tensors", len(state))

    def _autocast(self) -> Any:
        dtype = autocast_dtype(self.settings.precision, self.device)
        if dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(device_type=self.device, dtype=dtype)

    def evaluate(self, data: Sequence[dict[str, list[int]]]) -> float:
        """Mean loss per supervised token over `data`."""
        self.model.eval()
        total, count = 0.0, 0
        pad = self.tokenizer.pad_token_id
        with torch.no_grad(), self._autocast():
            for start in range(0, len(data), self.settings.batch_size):
                batch = collate(data[start : start + self.settings.batch_size], pad)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                loss, supervised = supervised_loss(self.model, batch)
                total += float(loss)
                count += supervised
        self.model.train()
        return total / count if count else math.nan

    def _log_step(self, record: dict[str, Any]) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        with (self.out_dir / STEP_LOG).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")

    def train(
        self, train: Sequence[Example], evaluation: Sequence[Example] = (), *, resume: bool = True
    ) -> TrainingResult:
        s = self.settings
        if not train:
            raise TrainingError("no training examples")
        torch.manual_seed(s.seed)
        random.seed(s.seed)
        train_data = encode(self.tokenizer, train, s.max_length)
        eval_data = encode(self.tokenizer, evaluation, s.max_length)
        self.model = self._build_model()
        self.model.train()
        batches_per_epoch = math.ceil(len(train_data) / s.batch_size)
        steps_per_epoch = max(1, math.ceil(batches_per_epoch / s.gradient_accumulation))
        total_steps = s.max_steps or max(1, math.ceil(s.epochs * steps_per_epoch))
        parameters = [p for p in self.model.parameters() if p.requires_grad]
        optimizer = torch.optim.AdamW(parameters, lr=s.learning_rate, weight_decay=s.weight_decay)
        warmup = min(s.warmup_steps, max(0, total_steps - 1))

        def schedule(step: int) -> float:
            if step < warmup:
                return (step + 1) / (warmup + 1)
            return max(0.0, (total_steps - step) / max(1, total_steps - warmup))

        scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, schedule)
        result = TrainingResult(total_steps=total_steps)
        step = 0
        latest = self.latest_checkpoint() if resume else None
        if latest is not None:
            step = self._restore(latest, optimizer, scheduler, result)
            result.resumed_from = step
            logger.info("resuming LoRA training from step %d", step)
        else:
            if self.checkpoint_dir.exists():
                shutil.rmtree(self.checkpoint_dir)
            if self.init_adapter is not None:
                self._start_from(self.init_adapter)
        if self.device == "cuda":
            torch.cuda.reset_peak_memory_stats()
        if s.eval_at_start and eval_data and step == 0:
            result.eval_losses.append((0, round(self.evaluate(eval_data), 5)))
            self._log_step({"step": 0, "eval_loss": result.eval_losses[-1][1]})
        pad = self.tokenizer.pad_token_id
        started = time.perf_counter() - result.seconds
        micro = 0
        stop = ""
        window: list[float] = [loss for _, loss in result.train_losses[-s.loss_window :]]
        while step < total_steps and not stop:
            epoch, offset = divmod(step * s.gradient_accumulation, batches_per_epoch)
            batches = batch_order(len(train_data), s.batch_size, epoch, s.seed)[offset:]
            running = 0.0
            for indexes in batches:
                batch = collate([train_data[i] for i in indexes], pad)
                batch = {k: v.to(self.device) for k, v in batch.items()}
                with self._autocast():
                    summed, supervised = supervised_loss(self.model, batch)
                loss = summed / max(1, supervised) / s.gradient_accumulation
                loss.backward()  # type: ignore[no-untyped-call]
                running += float(loss.detach())
                result.tokens += int(batch["attention_mask"].sum())
                micro += 1
                if micro % s.gradient_accumulation:
                    continue
                torch.nn.utils.clip_grad_norm_(parameters, 1.0)
                learning_rate = float(scheduler.get_last_lr()[0])
                optimizer.step()
                scheduler.step()
                optimizer.zero_grad(set_to_none=True)
                step += 1
                result.train_losses.append((step, round(running, 5)))
                window = [*window, running][-s.loss_window :]
                if self.on_step is not None:
                    self.on_step(step, running)
                record: dict[str, Any] = {
                    "step": step,
                    "loss": round(running, 5),
                    "lr": learning_rate,
                    "seconds": round(time.perf_counter() - started, 1),
                    "tokens": result.tokens,
                }
                running = 0.0
                if eval_data and (step % s.eval_every == 0):
                    result.eval_losses.append((step, round(self.evaluate(eval_data), 5)))
                    record["eval_loss"] = result.eval_losses[-1][1]
                self._log_step(record)
                full = len(window) == s.loss_window
                if s.stop_at_loss > 0 and full and sum(window) / len(window) <= s.stop_at_loss:
                    stop = "stop_at_loss"
                result.seconds = time.perf_counter() - started
                if step % s.save_every == 0 or stop or step >= total_steps:
                    self._save_checkpoint(step, optimizer, scheduler, result)
                if stop or step >= total_steps:
                    break
        if eval_data and (not result.eval_losses or result.eval_losses[-1][0] != step):
            result.eval_losses.append((step, round(self.evaluate(eval_data), 5)))
        result.steps = step
        result.stopped = stop or ("max_steps" if s.max_steps else "completed")
        result.seconds = time.perf_counter() - started
        if self.device == "cuda":
            result.peak_memory_bytes = int(torch.cuda.max_memory_allocated())
        adapter_dir = self.out_dir / "adapter"
        self.model.save_pretrained(str(adapter_dir))
        result.adapter_dir = str(adapter_dir)
        (self.out_dir / "training.json").write_text(
            json.dumps(result.as_dict(), indent=2), encoding="utf-8"
        )
        return result

    def merged(self) -> Any:
        """The base model with the adapter merged into its weights (full precision only)."""
        if self.settings.quantization != "none":
            raise TrainingError("merge a 4-bit model on a full-precision copy of the base model")
        return self.model.merge_and_unload()
