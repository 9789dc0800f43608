"""Vehicle recognizer: the vehicle type in a photo among the ImageNet transport classes, or none."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from PIL import Image

from gallery.context import DemoContext
from shared.imagenet import classify, imagenet_labels, top_k

logger = logging.getLogger(__name__)

# ImageNet-1k classes that are vehicles people or goods travel in, by kind, spelled as in the labels file.
# Left out on purpose: weapons and warships (tank, half-track, military aircraft, aircraft carrier,
# submarine), fantasy or toy craft (pirate ship, space shuttle) and vehicle parts (car wheel, grille).
VEHICLE_KINDS: dict[str, tuple[str, ...]] = {
    "road": (
        "ambulance", "fire engine", "police van", "taxicab", "school bus", "trolleybus", "minibus", "minivan",
        "moving van", "semi-trailer truck", "pickup truck", "tow truck", "garbage truck", "jeep",
        "station wagon", "convertible", "sports car", "race car", "limousine", "Model T",
        "recreational vehicle", "moped", "scooter", "tractor", "snowplow", "golf cart", "go-kart",
        "amphibious vehicle", "snowmobile", "horse-drawn vehicle", "pulled rickshaw", "bullock cart",
    ),
    "bicycle": ("mountain bike", "tandem bicycle", "tricycle"),
    "rail": ("high-speed train", "electric locomotive", "steam locomotive", "passenger car", "freight car", "tram"),
    "water": (
        "container ship", "ocean liner", "fireboat", "lifeboat", "motorboat", "schooner", "yawl", "catamaran",
        "trimaran", "canoe", "gondola",
    ),
    "air": ("airliner", "airship"),
}
KIND_NAMES = {"road": ("road vehicle", "道路车辆"), "bicycle": ("bicycle", "自行车"),
              "rail": ("rail vehicle", "轨道车辆"), "water": ("boat or ship", "船舶"), "air": ("aircraft", "航空器")}
# Below this summed probability of all vehicle classes the demo answers "no vehicle recognised".
VEHICLE_THRESHOLD = 0.4
TOP_K = 5


def vehicle_indices(labels: tuple[str, ...]) -> dict[int, str]:
    """Return {class index: kind} for the vehicle classes; raises if a name is missing from the labels."""
    position = {name: i for i, name in enumerate(labels)}
    missing = [name for names in VEHICLE_KINDS.values() for name in names if name not in position]
    if missing:
        raise ValueError(f"vehicle classes not in the ImageNet labels: {missing}")
    return {position[name]: kind for kind, names in VEHICLE_KINDS.items() for name in names}


def vehicle_result(probs: np.ndarray, labels: tuple[str, ...]) -> dict[str, Any]:
    """Return the recognised vehicle (or None), its kind, the summed vehicle probability and the top vehicle classes."""
    kinds = vehicle_indices(labels)
    among = sorted(kinds)
    total = float(probs[among].sum())
    best = max(among, key=lambda i: probs[i])
    found = total >= VEHICLE_THRESHOLD
    return {
        "vehicle": labels[best] if found else None,
        "kind": kinds[best] if found else None,
        "vehicle_probability": round(total, 4),
        "labels": top_k(probs, TOP_K, labels, among=among),
        "seen": top_k(probs, 1, labels)[0],
    }


def predict(ctx: DemoContext, image: Image.Image) -> dict[str, Any]:
    """Return the vehicle type in the photo (or None below the threshold) and the top vehicle classes."""
    probs = classify(ctx.model("classifier"), image)
    result = vehicle_result(probs, imagenet_labels())
    logger.debug("%s: vehicle %s (vehicle probability %.2f)", ctx.id, result["vehicle"], result["vehicle_probability"])
    return result


def present(result: dict[str, Any], inputs: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    """Show the answer as a sentence and the vehicle classes as confidence bars (class names are the model's)."""
    share = f"{result['vehicle_probability']:.0%}"
    zh = lang == "zh"
    if result["vehicle"] is None:
        seen = result["seen"]
        text = (f"### 未识别到交通工具\n所有交通工具类别合计：{share}（阈值为 {VEHICLE_THRESHOLD:.0%}）。"
                f"模型对整张图片的最佳猜测：**{seen['label']}**（{seen['score']:.0%}）。" if zh else
                f"### No vehicle recognised\n"
                f"All vehicle classes together: {share} (the threshold is {VEHICLE_THRESHOLD:.0%}). "
                f"The model's best guess for the whole picture: **{seen['label']}** ({seen['score']:.0%}).")
    elif zh:
        text = f"### {result['vehicle']}\n类别：{KIND_NAMES[result['kind']][1]}。所有交通工具类别合计：{share}。"
    else:
        text = (f"### {result['vehicle']}\n"
                f"Kind: {KIND_NAMES[result['kind']][0]}. All vehicle classes together: {share}.")
    # Confidence bars headline their top class, which would read as an answer: show none without a vehicle.
    bars = None if result["vehicle"] is None else {item["label"]: item["score"] for item in result["labels"]}
    return {"vehicle": text, "labels": bars}
