"""Regenerate the fixtures of tests/test_invreal_*.py with the real libraries (not run by the tests).

    benchmarks/work/fixturegen/bin/python tests/data/invreal/generate.py

Made with torch 2.14.1, transformers 5.24.0, peft 0.21.2, diffusers 0.42.1, sentence-transformers 6.3.0,
timm 1.0.31, xgboost 3.2.0, lightgbm 4.7.0, openvino 2026.4.1 (CPU). Weights are random and tiny; only the layout and
metadata the libraries write matter.
Each folder is as the library's save call left it, except where noted.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import torch

HERE = Path(__file__).parent


def fresh(name: str) -> Path:
    d = HERE / name
    shutil.rmtree(d, ignore_errors=True)
    return d


def llama_config():  # type: ignore[no-untyped-def]
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=128,
        hidden_size=16,
        intermediate_size=32,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=64,
    )


def peft_lora() -> None:
    """peft save_pretrained of a LoRA on a model loaded as meta-llama/Llama-3.2-1B."""
    from peft import LoraConfig, get_peft_model
    from transformers import LlamaForCausalLM

    m = LlamaForCausalLM(llama_config())
    m.name_or_path = m.config._name_or_path = "meta-llama/Llama-3.2-1B"  # as from_pretrained(that id) sets
    pm = get_peft_model(m, LoraConfig(r=2, target_modules=["q_proj", "v_proj"], task_type="CAUSAL_LM"))
    pm.save_pretrained(fresh("peft-lora"))


def ddpm_pipeline() -> None:
    """diffusers save_pretrained of a DDPMPipeline (model_index.json, unet/, scheduler/)."""
    from diffusers import DDPMPipeline, DDPMScheduler, UNet2DModel

    unet = UNet2DModel(
        sample_size=8,
        in_channels=3,
        out_channels=3,
        layers_per_block=1,
        block_out_channels=(4, 8),
        norm_num_groups=4,
        down_block_types=("DownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "UpBlock2D"),
    )
    DDPMPipeline(unet=unet, scheduler=DDPMScheduler()).save_pretrained(fresh("ddpm-pipeline"))


def tiny_bert(folder: str, model_class: type, **config: int) -> Path:
    """A tiny BERT of ``model_class`` and its tokenizer saved by transformers in HERE/folder."""
    from transformers import BertConfig, BertTokenizerFast

    tmp = HERE / folder
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [f"w{i}" for i in range(27)]
    (tmp / "vocab.txt").write_text("\n".join(vocab))
    sizes = {"hidden_size": 8, "num_hidden_layers": 1, "num_attention_heads": 2, "intermediate_size": 16}
    model_class(BertConfig(vocab_size=len(vocab), max_position_embeddings=16, **sizes, **config)).save_pretrained(tmp)
    BertTokenizerFast(str(tmp / "vocab.txt")).save_pretrained(tmp)
    return tmp


def sentence_transformer() -> None:
    """sentence-transformers save of Transformer + Pooling + Normalize without a model name: its card
    template titles the card with the class name ("# SentenceTransformer")."""
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertModel

    tmp = tiny_bert("_bert", BertModel)
    word = models.Transformer(str(tmp))
    st = SentenceTransformer(modules=[word, models.Pooling(word.get_word_embedding_dimension()), models.Normalize()])
    st.save(str(fresh("st-model")))
    # with a Dense projection: its weights are in 2_Dense/, a module (a part) of the same model
    dense = models.Dense(word.get_word_embedding_dimension(), 4)
    word2 = models.Transformer(str(tmp))
    st = SentenceTransformer(modules=[word2, models.Pooling(word2.get_word_embedding_dimension()), dense])
    st.save(str(fresh("st-dense")))
    shutil.rmtree(tmp)


def cross_encoder() -> None:
    """sentence-transformers CrossEncoder save (one label: a reranker); its card is removed, so the
    folder alone must tell the task (the card says text-ranking)."""
    from sentence_transformers import CrossEncoder
    from transformers import BertForSequenceClassification

    tmp = tiny_bert("_ce", BertForSequenceClassification, num_labels=1)
    CrossEncoder(str(tmp)).save(str(fresh("ce-model")))
    (HERE / "ce-model" / "README.md").unlink()
    shutil.rmtree(tmp)


def timm_model() -> None:
    """timm's save_for_hf (config.json with architecture + pretrained_cfg, model.safetensors)."""
    import timm
    from timm.models._hub import save_for_hf

    m = timm.create_model("test_vit", pretrained=False, num_classes=3)
    save_for_hf(m, fresh("timm-vit"), model_config={"label_names": ["a", "b", "c"]}, safe_serialization=True)
    (HERE / "timm-vit" / "model.safetensors").unlink()  # 1.2 MB; the tests write small weights beside config.json


def sd_pipeline() -> None:
    """diffusers save_pretrained of a StableDiffusionPipeline with tiny parts (diffusers' own test sizes):
    model_index.json naming diffusers and transformers parts, text_encoder/config.json a transformers
    CLIPTextModel config whose _name_or_path is where that part was loaded from."""
    import json

    from diffusers import AutoencoderKL, PNDMScheduler, StableDiffusionPipeline, UNet2DConditionModel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    unet = UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=8,
        in_channels=4,
        out_channels=4,
        down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
        cross_attention_dim=8,
        norm_num_groups=4,
        attention_head_dim=2,
    )
    vae = AutoencoderKL(
        block_out_channels=[4],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=4,
    )
    tmp = HERE / "_clip"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1, "a</w>": 2, "b</w>": 3, "a": 4, "b": 5}
    (tmp / "vocab.json").write_text(json.dumps(vocab))
    (tmp / "merges.txt").write_text("#version: 0.2\n")
    tok = CLIPTokenizer(str(tmp / "vocab.json"), str(tmp / "merges.txt"))
    text = CLIPTextModel(
        CLIPTextConfig(
            hidden_size=8,
            intermediate_size=16,
            num_attention_heads=2,
            num_hidden_layers=1,
            vocab_size=len(vocab),
            max_position_embeddings=16,
            projection_dim=8,
        )
    )
    text.name_or_path = text.config._name_or_path = "openai/clip-vit-large-patch14"  # as from_pretrained sets
    pipe = StableDiffusionPipeline(
        vae=vae,
        text_encoder=text,
        tokenizer=tok,
        unet=unet,
        scheduler=PNDMScheduler(skip_prk_steps=True),
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipe.save_pretrained(fresh("sd-pipeline"))
    shutil.rmtree(tmp)


def tree_models() -> None:
    """XGBoost save_model as JSON and UBJSON, LightGBM save_model (text): 2 trees of depth 2 on 3 features."""
    import lightgbm
    import numpy as np
    import xgboost

    rng = np.random.default_rng(0)
    x = rng.random((50, 3))
    y = (x[:, 0] > 0.5).astype(int)
    d = fresh("trees")
    d.mkdir()
    m = xgboost.XGBClassifier(n_estimators=2, max_depth=2).fit(x, y)
    m.save_model(str(d / "xgb.json"))
    m.save_model(str(d / "xgb.ubj"))
    lgb = lightgbm.train({"objective": "regression", "verbose": -1}, lightgbm.Dataset(x, y), num_boost_round=2)
    lgb.save_model(str(d / "lgb.txt"))


def openvino_ir() -> None:
    """openvino.save_model of a converted torch Linear(8, 4): openvino_model.xml (the network) + .bin."""
    import openvino

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(8, 4)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return self.lin(x)

    d = fresh("openvino")
    d.mkdir()
    model = openvino.convert_model(Net(), example_input=torch.zeros(1, 8))
    openvino.save_model(model, str(d / "openvino_model.xml"), compress_to_fp16=False)


def local_dir_download() -> None:
    """A folder as `hf download org/m --local-dir` leaves it: the files, and huggingface_hub's own download
    metadata (.cache/huggingface/download/<file>.metadata: commit hash, etag, timestamp), written by its
    write_download_metadata; etags as the hub gives them (LFS SHA-256 for weights, git blob SHA-1 otherwise)."""
    import hashlib

    import numpy as np
    from huggingface_hub._local_folder import write_download_metadata
    from safetensors.numpy import save

    d = fresh("local-dir")
    d.mkdir()
    files = {
        "README.md": b"---\nlicense: cc-by-nc-4.0\n---\n# m\n",
        "config.json": b'{"architectures": ["BertModel"], "model_type": "bert"}\n',
        "model.safetensors": save({"w": np.zeros(4, np.float32)}),
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
        if name.endswith(".safetensors"):
            etag = hashlib.sha256(data).hexdigest()
        else:
            etag = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
        write_download_metadata(d, name, "0123456789abcdef0123456789abcdef01234567", etag)


if __name__ == "__main__":
    makers = (peft_lora, ddpm_pipeline, sentence_transformer, cross_encoder, timm_model, sd_pipeline, tree_models)
    for make in (*makers, openvino_ir, local_dir_download):
        torch.manual_seed(0)  # each fixture from the same seed: regenerating one leaves the others' bytes
        make()
