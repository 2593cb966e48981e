"""DualASRTask: ESPnet's AbsTask for SO and DO models.

Everything ESPnet's trainer offers comes with it (``--ngpu``, ``--resume``, ``--keep_nbest_models``,
checkpoint averaging, TensorBoard, collect_stats mode, the distributed options). The frontend,
specaug, normalize, encoder and decoder choices are ESPnet's own registries, so any ESPnet encoder
or decoder is a yaml change. The two texts go through ESPnet's multi-tokenizer preprocessor under
the data names ``text_surface`` and ``text_meaning``.
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import unicodedata
from pathlib import Path
from typing import Callable, Collection, Dict, List, Tuple

import numpy as np
import torch
import dualasr.lazy_deps  # noqa: F401,I001  (first: keeps ESPnet's start-up fast and quiet)
from espnet2.asr.ctc import CTC
from espnet2.tasks.abs_task import AbsTask
from espnet2.tasks.asr import (
    decoder_choices,
    encoder_choices,
    frontend_choices,
    normalize_choices,
    preencoder_choices,
    specaug_choices,
)
from espnet2.torch_utils.initialize import initialize
from espnet2.train.collate_fn import CommonCollateFn
from espnet2.train.preprocessor import MutliTokenizerCommonPreprocessor
from espnet2.train.trainer import Trainer
from espnet2.utils.get_default_kwargs import get_default_kwargs
from espnet2.utils.nested_dict_action import NestedDictAction
from espnet2.utils.types import int_or_none, str2bool, str_or_none

from dualasr import OUTPUTS
from dualasr.models.dual_model import DualASRModel
from dualasr.train.pcgrad import PCGradTrainer


def resolve_model_paths(conf: dict, config_file: Path | str) -> dict:
    """The files a model needs to load (CMVN stats, token lists, bpe models: the files a packed model
    holds, ``dualasr.packed``), made absolute with the packer's rule: a relative path is taken
    relative to the working directory, else to the model directory. The recipe records absolute
    paths; this serves older model dirs and hand-edited ones."""
    from dualasr.packed import _config_files, find_config_file

    conf = {k: dict(v) if isinstance(v, dict) else v for k, v in conf.items()}
    for keys, value in _config_files(conf):
        found = find_config_file(value, Path(config_file))
        if found is not None:
            target = conf
            for k in keys[:-1]:
                target = target[k]
            target[keys[-1]] = str(found.absolute())
    return conf


class DualTextPreprocessor(MutliTokenizerCommonPreprocessor):
    """ESPnet's multi-tokenizer preprocessor; with ``decompose_hangul`` the texts are put in Unicode
    NFD first, so that Hangul syllables become jamo (초성/중성/종성) and the char tokenizer emits jamo.
    Inference composes the hypotheses back (NFC), so every file on disk stays in syllables."""

    def __init__(self, *args, decompose_hangul: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.decompose_hangul = decompose_hangul

    def _text_process(self, data):
        if self.decompose_hangul:
            for name in self.text_name:
                if isinstance(data.get(name), str):
                    data[name] = unicodedata.normalize("NFD", data[name])
        return super()._text_process(data)


def output_token_types(args: argparse.Namespace, outputs=OUTPUTS) -> Dict[str, str]:
    """The token type of each output: ``--<output>_token_type`` where given, else ``--token_type``
    (e.g. ``--surface_token_type word`` for space-separated phones, one phone one token)."""
    return {o: getattr(args, f"{o}_token_type", None) or args.token_type for o in outputs}


def _load_token_list(value, name: str) -> List[str]:
    if isinstance(value, str):
        with open(value, encoding="utf-8") as f:
            return [line.rstrip() for line in f]
    if isinstance(value, (list, tuple)):
        return list(value)
    raise RuntimeError(f"--{name} must be a file or a list")


def resolve_auto_max_steps(args: argparse.Namespace) -> None:
    """``scheduler_conf: {max_steps: auto}`` of ESPnet's ``tristagelr``: the number of optimizer steps of the whole
    training (``max_epoch`` x the training batches of an epoch // ``accum_grad``), so that the schedule ends where
    training does. ESPnet wants the number itself; it depends on the corpus, the batch settings and the epochs,
    which a recipe may set per language. The batches are counted as ESPnet's sequence iterator makes them
    (``build_batch_sampler`` with the same arguments), so the count is exact. Changes ``args`` in place (the
    saved config.yaml then holds the number)."""
    conf = dict(args.scheduler_conf or {})
    if conf.get("max_steps") != "auto":
        return
    if args.scheduler != "tristagelr":
        raise SystemExit(f"scheduler_conf max_steps: auto is for scheduler tristagelr, not {args.scheduler}")
    if args.collect_stats:  # ESPnet builds the scheduler but steps it never: any number will do
        args.scheduler_conf = {**conf, "max_steps": 1}
        return
    if getattr(args, "iterator_type", "sequence") != "sequence" or getattr(args, "multiple_iterator", False):
        raise SystemExit(f"scheduler_conf max_steps: auto counts the batches of the sequence iterator, not "
                         f"{args.iterator_type}{' (multiple_iterator)' if args.multiple_iterator else ''}: "
                         f"give max_steps as a number")
    if args.num_iters_per_epoch:
        batches = int(args.num_iters_per_epoch)
    else:
        from espnet2.samplers.build_batch_sampler import build_batch_sampler

        world = int(getattr(args, "dist_world_size", None) or 1)
        category = Path(args.train_data_path_and_name_and_type[0][0]).parent / "utt2category"
        batches = len(build_batch_sampler(
            type=args.batch_type, shape_files=args.train_shape_file, fold_lengths=args.fold_length,
            batch_size=args.batch_size, batch_bins=args.batch_bins, sort_in_batch=args.sort_in_batch,
            sort_batch=args.sort_batch, drop_last=args.drop_last_iter, min_batch_size=world,
            utt2category_file=str(category) if category.exists() else None))
    steps = args.max_epoch * (batches // max(1, int(args.accum_grad)))
    if steps < 1:
        raise SystemExit(f"scheduler_conf max_steps: auto: {batches} batches per epoch x {args.max_epoch} epochs / "
                         f"accum_grad {args.accum_grad} is no optimizer step")
    # (no logging here: a logging call before ESPnet's main_worker configures the root logger would leave
    # train.log without its INFO lines; config.yaml records the number)
    args.scheduler_conf = {**conf, "max_steps": steps}


class DualASRTask(AbsTask):
    num_optimizers: int = 1
    class_choices_list = [frontend_choices, specaug_choices, normalize_choices, preencoder_choices, encoder_choices,
                          decoder_choices]
    trainer = Trainer

    @classmethod
    def add_task_arguments(cls, parser: argparse.ArgumentParser):
        group = parser.add_argument_group(description="Task related")
        for o in OUTPUTS:
            group.add_argument(f"--token_list_{o}", type=str_or_none, default=None,
                               help=f"token list of the {o} output (needed when the model has it)")
            group.add_argument(f"--bpemodel_{o}", type=str_or_none, default=None,
                               help=f"sentencepiece model of the {o} output")
        group.add_argument("--init", type=lambda x: str_or_none(x.lower()), default=None,
                           choices=["chainer", "xavier_uniform", "xavier_normal", "kaiming_uniform",
                                    "kaiming_normal", "normal", None])
        group.add_argument("--init_seed", type=int_or_none, default=None,
                           help="draw the initial weights from this seed (training's randomness still comes "
                                "from --seed); default: none, ESPnet's behaviour (the weights from --seed)")
        group.add_argument("--input_size", type=int_or_none, default=None,
                           help="feature dimension when the data loader gives features (no frontend)")
        group.add_argument("--ctc_conf", action=NestedDictAction, default=get_default_kwargs(CTC))
        group.add_argument("--model_conf", action=NestedDictAction,
                           default=dict(outputs=list(OUTPUTS), ctc_weight=0.3, lsm_weight=0.1,
                                        task_branch_layers=0),
                           help="DualASRModel options: outputs, output_weights, ctc_weight, lsm_weight, "
                                "length_normalized_loss, task_branch_layers, report_cer, report_wer; the "
                                "variants' knobs (hier_layer, hier_self_condition, adapter_layers, "
                                "adapter_bottleneck, pcgrad, adv_private_layers, adv_weight, adv_grl_scale, "
                                "adv_ortho_weight, sparse_layers, sparse_l1, sparse_tol) are documented in "
                                "conf/model_kinds.yaml")
        group = parser.add_argument_group(description="Preprocess related")
        group.add_argument("--use_preprocessor", type=str2bool, default=True)
        group.add_argument("--token_type", type=str, default="char", choices=["char", "bpe", "word"])
        for o in OUTPUTS:
            group.add_argument(f"--{o}_token_type", type=str_or_none, default=None, choices=["char", "bpe", "word", None],
                               help=f"token type of the {o} output (default: --token_type)")
        group.add_argument("--cleaner", type=str_or_none, default=None, choices=[None, "tacotron"])
        group.add_argument("--decompose_hangul", type=str2bool, default=False,
                           help="tokenize Hangul as jamo (Unicode NFD); hypotheses are recomposed (NFC)")
        for class_choices in cls.class_choices_list:
            class_choices.add_arguments(group)

    @classmethod
    def main_worker(cls, args: argparse.Namespace):
        resolve_auto_max_steps(args)
        # model_conf.pcgrad selects the PCGrad trainer; every other model trains with ESPnet's Trainer
        if cls is DualASRTask and dict(args.model_conf or {}).get("pcgrad"):
            return DualASRPCGradTask.main_worker(args)
        super().main_worker(args)
        # do_sparse: once training is done, how sparse each output's residual ended up (first rank only)
        if (dict(args.model_conf or {}).get("sparse_layers") and not args.collect_stats
                and (args.dist_rank or 0) == 0):
            from dualasr.bin.residual_sparsity import write_sparsity
            write_sparsity(Path(args.output_dir))

    @classmethod
    def build_collate_fn(cls, args: argparse.Namespace, train: bool) -> Callable[
        [Collection[Tuple[str, Dict[str, np.ndarray]]]], Tuple[List[str], Dict[str, torch.Tensor]]
    ]:
        return CommonCollateFn(float_pad_value=0.0, int_pad_value=-1)

    @classmethod
    def build_preprocess_fn(cls, args: argparse.Namespace, train: bool):
        if not args.use_preprocessor:
            return None
        outputs = [o for o in OUTPUTS if getattr(args, f"token_list_{o}", None) is not None]
        return DualTextPreprocessor(
            train=train,
            decompose_hangul=getattr(args, "decompose_hangul", False),
            token_type=[output_token_types(args)[o] for o in outputs],
            token_list=[getattr(args, f"token_list_{o}") for o in outputs],
            bpemodel=[getattr(args, f"bpemodel_{o}") for o in outputs],
            text_name=[f"text_{o}" for o in outputs],
            text_cleaner=args.cleaner,
        )

    @classmethod
    def required_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return ("speech",)

    @classmethod
    def optional_data_names(cls, train: bool = True, inference: bool = False) -> Tuple[str, ...]:
        return tuple(f"text_{o}" for o in OUTPUTS)

    @classmethod
    def build_model_from_file(cls, config_file=None, model_file=None, device: str = "cpu"):
        """ESPnet's loader, with the paths in config.yaml resolved first (:func:`resolve_model_paths`),
        so that a model loads whatever the working directory."""
        import yaml

        config_file = Path(config_file) if config_file is not None else Path(model_file).parent / "config.yaml"
        with open(config_file, encoding="utf-8") as f:
            conf = resolve_model_paths(yaml.safe_load(f), config_file)
        with tempfile.TemporaryDirectory() as tmp:
            resolved = Path(tmp) / "config.yaml"
            resolved.write_text(yaml.safe_dump(conf, allow_unicode=True), encoding="utf-8")
            return super().build_model_from_file(resolved, model_file, device)

    @classmethod
    def build_model(cls, args: argparse.Namespace) -> DualASRModel:
        init_seed = getattr(args, "init_seed", None)
        if init_seed is None:
            return cls._build_model(args)
        # A forked RNG draws the initial weights, so the global RNG (seeded from --seed by ESPnet's
        # main_worker) goes on to batching, dropout and specaug untouched by the init seed.
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(init_seed)
            return cls._build_model(args)

    @classmethod
    def _build_model(cls, args: argparse.Namespace) -> DualASRModel:
        model_conf = dict(args.model_conf)
        outputs = list(model_conf.pop("outputs", OUTPUTS))
        token_lists = {}
        for o in outputs:
            value = getattr(args, f"token_list_{o}", None)
            if value is None:
                raise RuntimeError(f"model outputs {outputs} need --token_list_{o}")
            token_lists[o] = _load_token_list(value, f"token_list_{o}")
            # keep the list itself in config.yaml, so the model is portable (as ASRTask does)
            setattr(args, f"token_list_{o}", token_lists[o])
            logging.info(f"{o}: vocabulary size {len(token_lists[o])}")

        if args.input_size is None:
            # features on disk with no --input_size would go through the waveform frontend and fail deep in its
            # STFT (a padding error that names neither the data nor the option)
            for path, name, kind in getattr(args, "train_data_path_and_name_and_type", None) or []:
                if name == "speech" and kind in ("kaldi_ark", "npy"):
                    raise RuntimeError(f"{path}: features ({kind}), but no --input_size: pass their dimension "
                                       f"(the recipe reads it from the dump's feats_dim)")
            frontend = frontend_choices.get_class(args.frontend)(**args.frontend_conf)
            input_size = frontend.output_size()
        else:
            args.frontend, args.frontend_conf = None, {}
            frontend, input_size = None, args.input_size
        specaug = specaug_choices.get_class(args.specaug)(**args.specaug_conf) if args.specaug else None
        normalize = normalize_choices.get_class(args.normalize)(**args.normalize_conf) if args.normalize else None
        # built where ESPnet's ASRTask builds it (after normalize, before the encoder), so that a seed
        # draws the same initial weights as there
        preencoder = None
        if getattr(args, "preencoder", None) is not None:
            preencoder = preencoder_choices.get_class(args.preencoder)(**args.preencoder_conf)
            input_size = preencoder.output_size()
        encoder = encoder_choices.get_class(args.encoder)(input_size=input_size, **args.encoder_conf)
        decoders, ctcs = {}, {}
        for o in outputs:
            decoders[o] = decoder_choices.get_class(args.decoder)(
                vocab_size=len(token_lists[o]), encoder_output_size=encoder.output_size(), **args.decoder_conf
            )
            ctcs[o] = CTC(odim=len(token_lists[o]), encoder_output_size=encoder.output_size(), **args.ctc_conf)
        model = DualASRModel(
            outputs=outputs, token_lists=token_lists, frontend=frontend, specaug=specaug,
            normalize=normalize, preencoder=preencoder, encoder=encoder, decoders=decoders, ctcs=ctcs, **model_conf,
        )
        if args.init is not None:
            initialize(model, args.init)
        return model


class DualASRPCGradTask(DualASRTask):
    """DualASRTask trained with :class:`dualasr.train.pcgrad.PCGradTrainer` (``model_conf.pcgrad: true``)."""

    trainer = PCGradTrainer
