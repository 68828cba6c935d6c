#!/usr/bin/env python3
"""Reference values for the metric tests of mafs-eval (crates/mafs-eval/tests/).

Captions: pycocoevalcap (the COCO caption evaluation, PyPI package `pycocoevalcap`, whose
PTBTokenizer runs Stanford CoreNLP 3.4.1 under Java) computes BLEU-1..4, CIDEr (CIDEr-D) and
ROUGE-L on the committed COCO-format fixtures, corpus-level and per image, exactly as
`COCOEvalCap.evaluate()` does (METEOR and SPICE are skipped: mafs does not implement them).
The PTB tokenizer's output on the fixture captions and on extra sentences is written too.

VQA: the official VQA v2 evaluation (GT-Vision-Lab/VQA, PythonEvaluationTools/vqaEvaluation/
vqaEval.py, master) is not on PyPI in a usable form; `VQAEval` below is a line-by-line port
of it to Python 3 (its statements unchanged; only the progress bar and prints are dropped),
fed the way its `VQA.loadRes` feeds it.

Usage (from the repository root):
    pip install pycocoevalcap==1.2          # Java must be on PATH for the tokenizer
    python scripts/metrics_reference.py     # writes datasets/fixtures/metrics/*_reference.json
    python scripts/metrics_reference.py --make-fixtures   # first (re)writes the inputs
    python scripts/metrics_reference.py --differential 20000   # Rust vs Java tokenizer on
                                            # 20000 random caption-like sentences (seeded)
"""

import argparse
import json
import random
import re
import sys
from pathlib import Path

FIX = Path(__file__).resolve().parent.parent / "datasets" / "fixtures" / "metrics"

# ---------------------------------------------------------------------------------------
# Fixture inputs
# ---------------------------------------------------------------------------------------

HAND_WRITTEN = [
    # (references, candidate)
    (["A man riding a wave on top of a surfboard.",
      "A surfer rides a large wave in the ocean.",
      "A person on a surf board riding a wave",
      "A man is surfing on a big, blue wave!",
      "Surfer in a black wet-suit riding a wave."],
     "a man riding a wave on a surfboard"),
    (["Two dogs playing with a frisbee in the park.",
      "A couple of dogs are running after a Frisbee.",
      "Two brown dogs chase a flying disc on the grass",
      "Dogs' playtime: two pups and a frisbee.",
      "Two dogs fight over a red frisbee on a lawn."],
     "Two dogs are playing with a frisbee."),
    (["A kitchen with stainless steel appliances and granite counter-tops.",
      "A modern kitchen that has a stove, a fridge, and a sink.",
      "The kitchen isn't very big but it's clean.",
      "A clean kitchen with white cabinets (and a window).",
      "An empty kitchen with lots of counter space"],
     "a kitchen with a stove and a refrigerator"),
    (["A plate of food with broccoli, rice and chicken.",
      "A white plate topped with meat and vegetables.",
      "Chicken, broccoli & rice on a dinner plate",
      "There's a healthy meal on the plate.",
      "A close-up of a plate of food on a table."],
     "a plate of food with broccoli and meat"),
    (["A red double-decker bus driving down a city street.",
      "A big red bus is on the road in London.",
      "The double decker bus is parked at the bus stop",
      "A red bus with \"Oxford Street\" written on its front.",
      "A tour bus drives past some buildings."],
     "a red double decker bus on a street"),
    (["A cat sleeping on top of a laptop keyboard.",
      "A grey cat lies on a computer's keyboard.",
      "The cat doesn't want its owner to work!",
      "A kitty curled up on an open laptop",
      "A cat laying on a keyboard of a laptop computer."],
     "a cat sitting on a laptop"),
    (["A group of people standing around a table with laptops.",
      "Several people are working on their computers at a meeting.",
      "Five men and two women sit at a long table...",
      "People in a conference room; some have laptops.",
      "A team meeting at 10:30 a.m. in an office."],
     "a group of people sitting at a table with laptops"),
    (["A giraffe standing next to a tall tree.",
      "A giraffe eating leaves from the top of a tree",
      "A tall giraffe reaches up into a tree to eat.",
      "One giraffe in a zoo enclosure near some trees.",
      "The giraffe's neck is stretched toward the branches."],
     "a giraffe standing in front of a tree"),
    (["A baseball player swinging a bat at a ball.",
      "A batter swings at the pitch during a game.",
      "The baseball player is about to hit the ball",
      "A man in a white uniform swings his bat.",
      "Baseball game: the hitter, the catcher and the umpire."],
     "a baseball player holding a bat on a field"),
    (["A stop sign on the corner of a street.",
      "A red stop sign next to a road",
      "A \"STOP\" sign with graffiti on it.",
      "The stop sign is bent and faded.",
      "A street sign at an intersection in the U.S."],
     "stop sign"),
    (["A woman holding an umbrella in the rain.",
      "A lady walks down the sidewalk with a pink umbrella.",
      "A woman with an umbrella is crossing the street",
      "It's raining, and a woman holds her umbrella.",
      "A person under an umbrella on a rainy day."],
     "the the the umbrella umbrella woman woman"),
    (["A bathroom with a toilet, sink and a mirror.",
      "A small bathroom with white tiles",
      "The bathroom has a toilet and a bathtub.",
      "A clean white bathroom with a shower curtain.",
      "A toilet next to a sink in a small restroom"],
     "a zebra grazing quietly near the savanna waterhole"),
    (["Three horses graze in a field near a fence.",
      "Some horses eating grass in a pasture",
      "3 brown horses are standing in the green field.",
      "A group of horses in a fenced-in area.",
      "Horses grazing on a sunny afternoon."],
     "three horses standing in a field"),
    (["A pizza with pepperoni and cheese on a wooden table.",
      "A large pizza sitting on top of a pan.",
      "A half-eaten pizza on a plate",
      "Pizza, pizza, and more pizza!",
      "Someone's pizza with lots of toppings."],
     "A PIZZA WITH CHEESE AND PEPPERONI ON A TABLE."),
    (["A young boy flying a kite on the beach.",
      "A kid flies a colorful kite by the ocean",
      "A child holds the string of a kite at the shore.",
      "A boy with a kite; the sky is clear.",
      "A little boy is playing with his kite on the sand."],
     "a boy who's flying a kite on a beach"),
    (["An old clock tower in the middle of a town.",
      "A tall clock tower against a blue sky",
      "The clock on the tower reads 5 o'clock.",
      "A large clock on the side of a brick building.",
      "A town square with a clock-tower."],
     "a clock tower with a clock on it"),
    (["A train traveling down the tracks near a station.",
      "A yellow and blue train pulls into the station.",
      "A passenger train on the railroad tracks",
      "The train is 100 feet long and very fast.",
      "A commuter train stops at a platform."],
     "a train on the tracks"),
    (["Two people riding bikes down a dirt road.",
      "A couple rides bicycles along a country path",
      "Cyclists on a road in the countryside.",
      "Two bikers, one in red and one in blue.",
      "People riding their bicycles on a trail"],
     "."),
    (["An elephant walking through tall grass.",
      "A large gray elephant in the wild",
      "The elephant is walking in a field of grass.",
      "A baby elephant follows its mother.",
      "An elephant with big tusks walks across the savanna."],
     ""),
    (["A laptop and a cup of coffee on a desk.",
      "A desk with a computer, a mug and some papers.",
      "A workspace: laptop, coffee, notebook",
      "A cup of coffee sits next to an open laptop.",
      "A home office desk with a MacBook."],
     "a laptop computer sitting on top of a desk next to a cup of coffee"),
]

TEMPLATE = {
    "animal": ["dog", "cat", "horse", "bird", "cow", "sheep", "bear"],
    "color": ["black", "white", "brown", "red", "small", "large", "young"],
    "place": ["grass", "beach", "street", "table", "bed", "snow", "field"],
    "verb": ["sitting", "standing", "lying", "walking", "running", "sleeping"],
    "prep": ["on", "in", "near", "next to", "in front of"],
}


def template_caption(rng, a, place):
    c = rng.choice(TEMPLATE["color"])
    v = rng.choice(TEMPLATE["verb"])
    p = rng.choice(TEMPLATE["prep"])
    forms = [
        f"A {c} {a} {v} {p} the {place}.",
        f"a {a} is {v} {p} a {place}",
        f"The {c} {a} {v} {p} some {place}",
        f"A {a} that is {v} {p} the {place}.",
        f"There is a {c} {a} {v} {p} a {place}.",
        f"{a.capitalize()}, {v} {p} the {place}!",
    ]
    return rng.choice(forms)


def make_caption_fixtures():
    rng = random.Random(20261201)
    images, annotations, results = [], [], []
    ann_id = 1
    image_id = 1000
    for refs, cand in HAND_WRITTEN:
        image_id += 1
        images.append({"id": image_id, "file_name": f"{image_id:012d}.jpg"})
        for r in refs:
            annotations.append({"image_id": image_id, "id": ann_id, "caption": r})
            ann_id += 1
        results.append({"image_id": image_id, "caption": cand})
    for k in range(20):
        image_id += 1
        images.append({"id": image_id, "file_name": f"{image_id:012d}.jpg"})
        a = rng.choice(TEMPLATE["animal"])
        place = rng.choice(TEMPLATE["place"])
        n_refs = 5 if k % 4 else rng.choice([3, 4, 6, 7])
        for _ in range(n_refs):
            annotations.append(
                {"image_id": image_id, "id": ann_id, "caption": template_caption(rng, a, place)})
            ann_id += 1
        # Candidates: mostly right, some with the wrong animal or place.
        cand_a = a if k % 3 else rng.choice(TEMPLATE["animal"])
        cand_p = place if k % 5 else rng.choice(TEMPLATE["place"])
        results.append({"image_id": image_id, "caption": template_caption(rng, cand_a, cand_p)})
    ann = {
        "info": {"description": "mafs metric fixture (COCO caption format)"},
        "images": images,
        "annotations": annotations,
    }
    write(FIX / "captions_annotations.json", ann)
    write(FIX / "captions_results.json", results)


# Extra sentences for the tokenizer reference, beyond the fixture captions.
PTB_EXTRA = [
    "A man's dog isn't running (quickly) down the street.",
    "The colour of the grey theatre is \"nice\" and centre-left.",
    "Two dogs, three cats; and a/b test * star -- dash - single... ellipsis!?",
    "He said 'hello' `world' & AT&T $5.00 3.5 1,000 10:30 50% #tag @user",
    "I'm you're they'll we'd she've can't won't gonna cannot wanna Dogs' toys",
    "U.S. Mr. St. e-mail well-known 3-year-old  Ms. Dr. etc. cafe caf\u00e9 na\u00efve",
    "{braces} [brackets] <angle> 1/2 \u00bd don't DON'T O'Neil rock'n'roll 'tis 'em",
    "the dog.The cat e.g. the Yahoo! news a.m. The",
    "I. The letter A. And a.",
    "don'ts #tag @user mid-1990s x-ray (555) 123-4567 5 7/8 co-op",
    "the dogs' bone, the 'quoted' word and \"double\" quotes",
    "A man's hat. Two men's. It's 5 o'clock. Y'all ain't gonna gotta lemme gimme dunno 'twas",
    "A dog -- running - fast --- really ---- ok",
    "The U.S. flag. U.S. The flag. Wash. Ill. ill. St. Louis st. corner",
    "A cat...and dog.... A bird . . . flying",
    "A person with a 2x4 board and 3D glasses, 4k TV, 1990s car, 24/7 shop",
    "1/2 the 12/25/2014 date 3:30pm $3.50 \u00a35 \u20ac10 100% 50-50",
    "she's he'd we'll they've I'm you're can't shouldn't ain't",
    "A dog\u2019s toy isn\u2019t \u201cred\u201d \u2013 it\u2019s blue \u2014 really\u2026",
    "A T-shirt, a X-ray, an e-mail and a 10-year-old's bike.",
    "Man with a hat (left) and woman (right).",
    "A group of 5-6 people; 2 of them are kids: ages 3 & 4.",
    "www.example.com and http://example.org/path are urls.",
    "Zebras!!! So many zebras???",
    "A  sign   that says   \"No Parking\"   .",
    "5.5 4,5 .5 -3 +4 3.14159 1,000,000",
    "The #1 team. A 100m race. The 3rd place.",
    "Mom's and dad's car. The kids's toys. James' hat.",
    "A 'cat' sitting. 'Twas a dark night. The '90s style.",
    "A woman, smiling, holds a baby; the baby cries.",
]


VQA_ITEMS = [
    # (question, question_type, answer_type, 10 answers, predicted answer)
    ("Is the man wearing a hat?", "is the man", "yes/no", ["yes"] * 10, "yes"),
    ("Is there a dog?", "is there a", "yes/no", ["yes"] * 9 + ["no"], "Yes"),
    ("Is it raining?", "is it", "yes/no", ["no"] * 6 + ["yes"] * 4, "yes."),
    ("Are the lights on?", "are the", "yes/no", ["yes"] * 2 + ["no"] * 8, "yes"),
    ("Is this a kitchen?", "is this a", "yes/no", ["yes"] * 10, "no"),
    ("Does the cat look happy?", "does the", "yes/no", ["yes", "yes", "yes", "no", "yes",
                                                         "maybe", "yes", "no", "yes", "yes"],
     " YES "),
    ("Is the door open?", "is the", "yes/no", ["no"] * 3 + ["yes"] * 7, "No!"),
    ("Is the food hot?", "is the", "yes/no", ["yes"] * 10, "yes!"),
    ("How many dogs are there?", "how many", "number", ["2"] * 10, "2"),
    ("How many people are in the photo?", "how many", "number",
     ["3"] * 5 + ["4"] * 3 + ["three", "5"], "three"),
    ("How many cars?", "how many", "number", ["1"] * 4 + ["2"] * 6, "one"),
    ("How many birds are flying?", "how many", "number", ["10"] * 8 + ["11", "12"], "ten"),
    ("How many slices of pizza?", "how many", "number", ["0"] * 3 + ["none"] * 2 + ["8"] * 5,
     "none"),
    ("How many windows?", "how many", "number", ["1,000"] * 3 + ["1000"] * 4 + ["many"] * 3,
     "1,000"),
    ("How much does it cost?", "how much", "number", ["3.50"] * 4 + ["$3.50"] * 4 + ["3.5"] * 2,
     "3.50"),
    ("What time is it?", "what time", "number", ["10:30"] * 6 + ["10:35"] * 4, "10:30"),
    ("How many zebras?", "how many", "number", ["4"] * 10, "four zebras"),
    ("What color is the bus?", "what color is the", "other", ["red"] * 10, "Red"),
    ("What color is the car?", "what color is the", "other",
     ["blue"] * 5 + ["dark blue"] * 3 + ["navy", "black"], "the blue"),
    ("What is the man holding?", "what is the man", "other",
     ["umbrella"] * 6 + ["an umbrella"] * 4, "an umbrella"),
    ("What is on the plate?", "what is on the", "other",
     ["pizza"] * 3 + ["food"] * 4 + ["slice of pizza"] * 3, "a slice of pizza."),
    ("What sport is this?", "what sport is", "other",
     ["tennis"] * 9 + ["tennis."], "Tennis"),
    ("What is the woman wearing?", "what is the woman", "other",
     ["t-shirt"] * 4 + ["t shirt"] * 3 + ["shirt"] * 3, "t-shirt"),
    ("Where is the cat?", "where is the", "other",
     ["on bed"] * 4 + ["bed"] * 4 + ["on the bed"] * 2, "on the bed"),
    ("What does the sign say?", "what does the", "other",
     ["stop"] * 7 + ["STOP", "stop sign", "stop!"], "STOP"),
    ("What is the dog doing?", "what is the", "other",
     ["sleeping"] * 5 + ["laying down"] * 3 + ["resting", "sleep"], "sleeping "),
    ("Why is the man smiling?", "why is the", "other",
     ["happy"] * 3 + ["he's happy"] * 3 + ["hes happy"] * 2 + ["joke", "unknown"], "hes happy"),
    ("What won't the dog do?", "what", "other",
     ["dont know"] * 3 + ["don't know"] * 4 + ["sit"] * 3, "dont know"),
    ("What kind of animal is this?", "what kind of", "other",
     ["giraffe"] * 8 + ["giraffes", "animal"], "giraffes"),
    ("What brand is the laptop?", "what brand", "other",
     ["apple"] * 5 + ["mac"] * 3 + ["dell", "hp"], "Apple Inc."),
    ("What is written on the shirt?", "what is", "other",
     ["i love ny"] * 4 + ["i <3 ny"] * 3 + ["ny"] * 3, "I love NY"),
    ("What fruit is shown?", "what", "other",
     ["bananas"] * 4 + ["banana"] * 4 + ["banana, apple"] * 2, "banana,apple"),
    ("What room is this?", "what room is", "other",
     ["living room"] * 6 + ["living-room"] * 2 + ["den", "lounge"], "living-room"),
    ("Which hand holds the cup?", "which", "other",
     ["left"] * 4 + ["right"] * 4 + ["left hand"] * 2, "left hand"),
    ("What is the boy playing with?", "what is the", "other",
     ["kite"] * 5 + ["a kite"] * 3 + ["string", "toy"], "kite"),
    ("What are they eating?", "what are", "other",
     ["hot dogs"] * 4 + ["hotdogs"] * 3 + ["hot dog"] * 3, "hot dog"),
    ("What is the weather like?", "what is the", "other",
     ["sunny"] * 6 + ["clear"] * 2 + ["sunny/clear", "nice"], "sunny/clear"),
    ("Who is in the picture?", "who is", "other",
     ["man"] * 4 + ["person"] * 3 + ["nobody", "no one", "guy"], "a man"),
    ("What is the score?", "what is the", "other",
     ["2-1"] * 5 + ["2 1"] * 3 + ["21", "unknown"], "2-1"),
    ("What is the name of the store?", "what is the name", "other",
     ["walmart"] * 3 + ["wal-mart"] * 3 + ["target"] * 4, "Wal-Mart"),
    ("What is the man riding?", "what is the man", "other",
     ["skateboard"] * 10, "surfboard"),
    ("What does the label say?", "what does the", "other",
     ["100%"] * 4 + ["100"] * 3 + ["100 percent"] * 3, "100%"),
]


def make_vqa_fixtures():
    questions, annotations, results = [], [], []
    for k, (q, qt, at, answers, pred) in enumerate(VQA_ITEMS):
        assert len(answers) == 10, q
        qid = 9000 + k
        img = 500 + k // 3
        questions.append({"image_id": img, "question": q, "question_id": qid})
        conf = ["yes", "maybe", "yes", "no", "yes", "yes", "maybe", "yes", "yes", "yes"]
        annotations.append({
            "question_type": qt,
            "multiple_choice_answer": max(set(answers), key=answers.count),
            "answers": [{"answer": a, "answer_confidence": conf[i], "answer_id": i + 1}
                        for i, a in enumerate(answers)],
            "image_id": img,
            "answer_type": at,
            "question_id": qid,
        })
        results.append({"question_id": qid, "answer": pred})
    meta = {"info": {"description": "mafs metric fixture (VQA v2 format)"},
            "task_type": "Open-Ended", "data_type": "mscoco", "data_subtype": "fixture",
            "license": {"name": "CC BY 4.0"}}
    write(FIX / "vqa_questions.json", dict(meta, questions=questions))
    write(FIX / "vqa_annotations.json", dict(meta, annotations=annotations))
    write(FIX / "vqa_results.json", results)


# ---------------------------------------------------------------------------------------
# Caption reference: pycocoevalcap
# ---------------------------------------------------------------------------------------

def caption_reference():
    from pycocotools.coco import COCO
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.cider.cider import Cider

    coco = COCO(str(FIX / "captions_annotations.json"))
    coco_res = coco.loadRes(str(FIX / "captions_results.json"))
    # COCOEvalCap.evaluate(), without METEOR and SPICE.
    img_ids = coco.getImgIds()
    gts = {i: coco.imgToAnns[i] for i in img_ids}
    res = {i: coco_res.imgToAnns[i] for i in img_ids}
    tokenizer = PTBTokenizer()
    gts_tok = tokenizer.tokenize(gts)
    res_tok = tokenizer.tokenize(res)
    corpus, per_image = {}, {str(i): {} for i in img_ids}
    for scorer, names in [(Bleu(4), ["Bleu_1", "Bleu_2", "Bleu_3", "Bleu_4"]),
                          (Rouge(), ["ROUGE_L"]), (Cider(), ["CIDEr"])]:
        score, scores = scorer.compute_score(gts_tok, res_tok)
        if len(names) == 1:
            score, scores = [score], [scores]
        for name, sc, scs in zip(names, score, scores):
            corpus[name] = float(sc)
            for i, s in zip(gts_tok.keys(), scs):
                per_image[str(i)][name] = float(s)
    out = {
        "source": "pycocoevalcap " + package_version("pycocoevalcap")
                  + " (PTBTokenizer: Stanford CoreNLP 3.4.1)",
        "command": "python scripts/metrics_reference.py",
        "corpus": corpus,
        "per_image": per_image,
        "tokenized": {str(i): {"candidate": res_tok[i][0], "references": gts_tok[i]}
                      for i in img_ids},
    }
    write(FIX / "captions_reference.json", out)

    # Tokenizer cases: the fixture captions and the extra sentences, one "image" each.
    inputs = [a["caption"] for a in coco.dataset["annotations"]]
    inputs += [r["caption"] for r in json.load(open(FIX / "captions_results.json"))]
    inputs += PTB_EXTRA
    # And the first random sentences of the differential test (same seed).
    rng = random.Random(12345)
    inputs += [random_sentence(rng) for _ in range(1000)]
    cases = {k: [{"caption": c}] for k, c in enumerate(inputs)}
    toks = PTBTokenizer().tokenize(cases)
    write(FIX / "ptb_tokenizer_reference.json", {
        "source": out["source"],
        "command": out["command"],
        "cases": [{"input": inputs[k], "output": toks[k][0]} for k in range(len(inputs))],
    })


def package_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:  # pragma: no cover
        return "unknown"


# ---------------------------------------------------------------------------------------
# VQA reference: the official vqaEval.py (master), ported to Python 3
# ---------------------------------------------------------------------------------------

class VQAEval:
    def __init__(self, vqa, vqaRes, n=2):
        self.n = n
        self.accuracy = {}
        self.evalQA = {}
        self.evalQuesType = {}
        self.evalAnsType = {}
        self.vqa = vqa
        self.vqaRes = vqaRes
        self.params = {'question_id': vqa.getQuesIds()}
        self.contractions = {"aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't",
                             "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't",
                             "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent": "haven't", "hed": "he'd", "hed've": "he'd've",
                             "he'dve": "he'd've", "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've",
                             "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's",
                             "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've",
                             "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't",
                             "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've",
                             "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've",
                             "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll",
                             "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've",
                             "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've",
                             "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd", "thered've": "there'd've",
                             "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've",
                             "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't",
                             "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're",
                             "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've",
                             "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll",
                             "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've",
                             "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've",
                             "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've",
                             "youll": "you'll", "youre": "you're", "youve": "you've"}
        self.manualMap = {'none': '0',
                          'zero': '0',
                          'one': '1',
                          'two': '2',
                          'three': '3',
                          'four': '4',
                          'five': '5',
                          'six': '6',
                          'seven': '7',
                          'eight': '8',
                          'nine': '9',
                          'ten': '10'
                          }
        self.articles = ['a',
                         'an',
                         'the'
                         ]

        self.periodStrip = re.compile(r"(?!<=\d)(\.)(?!\d)")
        self.commaStrip = re.compile(r"(\d)(\,)(\d)")
        self.punct = [';', r"/", '[', ']', '"', '{', '}',
                      '(', ')', '=', '+', '\\', '_', '-',
                      '>', '<', '@', '`', ',', '?', '!']

    def evaluate(self, quesIds=None):
        if quesIds == None:
            quesIds = [quesId for quesId in self.params['question_id']]
        gts = {}
        res = {}
        for quesId in quesIds:
            gts[quesId] = self.vqa.qa[quesId]
            res[quesId] = self.vqaRes.qa[quesId]

        accQA = []
        accQuesType = {}
        accAnsType = {}
        self.processedAnswers = {}
        for quesId in quesIds:
            resAns = res[quesId]['answer']
            resAns = resAns.replace('\n', ' ')
            resAns = resAns.replace('\t', ' ')
            resAns = resAns.strip()
            resAns = self.processPunctuation(resAns)
            resAns = self.processDigitArticle(resAns)
            self.processedAnswers[quesId] = resAns
            gtAcc = []
            gtAnswers = [ans['answer'] for ans in gts[quesId]['answers']]
            if len(set(gtAnswers)) > 1:
                for ansDic in gts[quesId]['answers']:
                    ansDic['answer'] = self.processPunctuation(ansDic['answer'])
            for gtAnsDatum in gts[quesId]['answers']:
                otherGTAns = [item for item in gts[quesId]['answers'] if item != gtAnsDatum]
                matchingAns = [item for item in otherGTAns if item['answer'] == resAns]
                acc = min(1, float(len(matchingAns)) / 3)
                gtAcc.append(acc)
            quesType = gts[quesId]['question_type']
            ansType = gts[quesId]['answer_type']
            avgGTAcc = float(sum(gtAcc)) / len(gtAcc)
            accQA.append(avgGTAcc)
            if quesType not in accQuesType:
                accQuesType[quesType] = []
            accQuesType[quesType].append(avgGTAcc)
            if ansType not in accAnsType:
                accAnsType[ansType] = []
            accAnsType[ansType].append(avgGTAcc)
            self.setEvalQA(quesId, avgGTAcc)
            self.setEvalQuesType(quesId, quesType, avgGTAcc)
            self.setEvalAnsType(quesId, ansType, avgGTAcc)
        self.setAccuracy(accQA, accQuesType, accAnsType)
        # Unrounded values, for comparisons finer than the official 2 decimals.
        self.unrounded = {
            'overall': 100 * float(sum(accQA)) / len(accQA),
            'perQuestionType': {t: 100 * float(sum(v)) / len(v) for t, v in accQuesType.items()},
            'perAnswerType': {t: 100 * float(sum(v)) / len(v) for t, v in accAnsType.items()},
        }

    def processPunctuation(self, inText):
        outText = inText
        for p in self.punct:
            if (p + ' ' in inText or ' ' + p in inText) or (re.search(self.commaStrip, inText) != None):
                outText = outText.replace(p, '')
            else:
                outText = outText.replace(p, ' ')
        outText = self.periodStrip.sub("",
                                       outText,
                                       re.UNICODE)
        return outText

    def processDigitArticle(self, inText):
        outText = []
        tempText = inText.lower().split()
        for word in tempText:
            word = self.manualMap.setdefault(word, word)
            if word not in self.articles:
                outText.append(word)
            else:
                pass
        for wordId, word in enumerate(outText):
            if word in self.contractions:
                outText[wordId] = self.contractions[word]
        outText = ' '.join(outText)
        return outText

    def setAccuracy(self, accQA, accQuesType, accAnsType):
        self.accuracy['overall'] = round(100 * float(sum(accQA)) / len(accQA), self.n)
        self.accuracy['perQuestionType'] = {quesType: round(100 * float(sum(accQuesType[quesType])) / len(accQuesType[quesType]), self.n) for quesType in accQuesType}
        self.accuracy['perAnswerType'] = {ansType: round(100 * float(sum(accAnsType[ansType])) / len(accAnsType[ansType]), self.n) for ansType in accAnsType}

    def setEvalQA(self, quesId, acc):
        self.evalQA[quesId] = round(100 * acc, self.n)

    def setEvalQuesType(self, quesId, quesType, acc):
        if quesType not in self.evalQuesType:
            self.evalQuesType[quesType] = {}
        self.evalQuesType[quesType][quesId] = round(100 * acc, self.n)

    def setEvalAnsType(self, quesId, ansType, acc):
        if ansType not in self.evalAnsType:
            self.evalAnsType[ansType] = {}
        self.evalAnsType[ansType][quesId] = round(100 * acc, self.n)


class VQA:
    """The parts of vqaTools/vqa.py that VQAEval uses (createIndex, getQuesIds, loadRes)."""

    def __init__(self, annotation_file=None, question_file=None):
        self.dataset, self.questions, self.qa = {}, {}, {}
        if annotation_file is not None and question_file is not None:
            self.dataset = json.load(open(annotation_file))
            self.questions = json.load(open(question_file))
            self.createIndex()

    def createIndex(self):
        self.qa = {ann['question_id']: ann for ann in self.dataset['annotations']}

    def getQuesIds(self):
        return [ann['question_id'] for ann in self.dataset['annotations']]

    def loadRes(self, resFile, quesFile):
        res = VQA()
        res.questions = json.load(open(quesFile))
        anns = json.load(open(resFile))
        assert type(anns) == list, 'results is not an array of objects'
        annsQuesIds = [ann['question_id'] for ann in anns]
        assert set(annsQuesIds) == set(self.getQuesIds()), \
            'Results do not correspond to current VQA set.'
        for ann in anns:
            qaAnn = self.qa[ann['question_id']]
            ann['image_id'] = qaAnn['image_id']
            ann['question_type'] = qaAnn['question_type']
            ann['answer_type'] = qaAnn['answer_type']
        res.dataset['annotations'] = anns
        res.createIndex()
        return res


def vqa_reference():
    vqa = VQA(str(FIX / "vqa_annotations.json"), str(FIX / "vqa_questions.json"))
    vqa_res = vqa.loadRes(str(FIX / "vqa_results.json"), str(FIX / "vqa_questions.json"))
    ev = VQAEval(vqa, vqa_res, n=2)
    ev.evaluate()
    write(FIX / "vqa_reference.json", {
        "source": "VQAEval of GT-Vision-Lab/VQA vqaEval.py (master), ported to Python 3 in "
                  "scripts/metrics_reference.py",
        "command": "python scripts/metrics_reference.py",
        "accuracy": ev.accuracy,
        "unrounded": ev.unrounded,
        "per_question": {str(q): a for q, a in ev.evalQA.items()},
        "processed_answers": {str(q): a for q, a in ev.processedAnswers.items()},
    })


# ---------------------------------------------------------------------------------------
# Differential test of the Rust tokenizer against the Java one
# ---------------------------------------------------------------------------------------

DIFF_WORDS = (
    "a an the man woman dog cat two three people person group of on in at with near next to "
    "sitting standing riding holding white black red blue green large small young old street "
    "table field grass water beach snow kitchen bathroom bus train plate pizza kite horse sign "
    "is are was has its their his her and or while some many very top front side"
).split()
DIFF_TRICKY = [
    "isn't", "don't", "can't", "won't", "it's", "man's", "dogs'", "they're", "we've", "I'm",
    "he'd", "you'll", "cannot", "gonna", "wanna", "gotta", "'tis", "'twas", "y'all", "o'clock",
    "O'Neil", "rock'n'roll", "'em", "'90s", "Mr.", "Mrs.", "Dr.", "St.", "U.S.", "U.S.A.",
    "e.g.", "i.e.", "a.m.", "p.m.", "etc.", "vs.", "Jr.", "Inc.", "No.", "Ave.", "Ltd.", "Co.",
    "Jan.", "Ill.", "Wash.", "Mass.", "A.", "I.", "x.", "3.5", "1,000", "10:30", "50%", "$5",
    "$3.50", "#1", "#tag", "@user", "1/2", "3/4", "12/25/2014", "5-6", "3-year-old",
    "well-known", "t-shirt", "x-ray", "e-mail", "co-op", "mid-1990s", "50-50", "2x4", "3D",
    "4k", "1990s", "24/7", "a/b", "and/or", "AT&T", "&", "*", "+", "=", "--", "-", "...", "..",
    "....", "!", "?", "!?", "!!", ";", ":", ",", "(", ")", "[", "]", "{", "}", "\"", "'", "`",
    "``", "''", "\u201c", "\u201d", "\u2018", "\u2019", "\u2013", "\u2014", "\u2026", "\u00bd",
    "\u00e9t\u00e9", "caf\u00e9", "na\u00efve", "\u00a3", "\u20ac", "www.example.com",
    "http://a.org/x", "Yahoo!", "dog.The", "dog.3", "A.B.C", "iPhone", "McDonald's", "TV",
    "ok", "OK", "No", "The", "He", "It", "This", "One", "You",
    ":)", ":-(", ";)", "=D", ":P", ":]", "^_^", "-_-", "<3", "<", ">", "<<", ">>", "&lt;",
    "&amp;", "&quot;", "c++", "C#", "IMG_1234.JPG", "photo.jpg", "3d.x", "1.c", "12ab.cd",
    "No. 5", "Fig. 3", "INC.A", "Inc.the", "#tag1594", "#a.b", "x. The", "A. A", "p. He",
    "\u00fcber", "stra\u00dfe", "\u03b1\u03b2\u03b3", "\u65e5\u672c", "\U0001F600", "\u00b0C",
    "\u00d7", "\u2022", "\u00a9", "\u2122", "~", "^", "|", "%", "$", "#", "@", "_", "__",
    "don\u2019t", "it\u2019s", "\u2018quoted\u2019", "\u201cquoted\u201d", "20%-off", "+1",
    "-5", "1.5x", "3rd", "21st", "1/3", "22.5\u00b0", "A+", "B-", "I/O", "N/A", "w/",
    "(left)", "(2)", "[sic]", "{x}", "e.g.,", "etc.)", "Mr.Smith", "U.S.-made", "co-ed",
    "anti-war", "pro-life", "Pa.m", "pA.m", "http://a.org/x]", "http://a.org/x}", "a@b.com", "<a@b.com>", "<3,@user", "x@y",  "Sr.A", "Dept.A", "B-I.", "x-1.5", "3.5-inch", "dog\u00b4s", "can\u00b4t", "x`s", "-LRB-", "--LRB--", "''quote''", "``quote''", "'s", "n't",
]


def random_sentence(rng):
    n = rng.randint(1, 16)
    toks = []
    for _ in range(n):
        r = rng.random()
        if r < 0.55:
            w = rng.choice(DIFF_WORDS)
        elif r < 0.9:
            w = rng.choice(DIFF_TRICKY)
        else:
            w = str(rng.randint(0, 2000))
        if rng.random() < 0.15:
            w = w.capitalize()
        elif rng.random() < 0.05:
            w = w.upper()
        if rng.random() < 0.06:
            w += rng.choice(".,;:!?)]'\"")
        if rng.random() < 0.04:
            w = rng.choice("(['\"`") + w
        toks.append(w)
    out = ""
    for i, w in enumerate(toks):
        if i:
            # Mostly one space; sometimes none (glued punctuation) or several.
            r = rng.random()
            out += "" if r < 0.12 else ("  " if r < 0.15 else " ")
        out += w
    if rng.random() < 0.5:
        out += rng.choice([".", ".", "!", "?", " .", "...", ""])
    return out


def differential(n):
    import subprocess
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    rng = random.Random(12345)
    sentences = [random_sentence(rng) for _ in range(n)]
    java = PTBTokenizer().tokenize({k: [{"caption": s}] for k, s in enumerate(sentences)})
    root = Path(__file__).resolve().parent.parent
    proc = subprocess.run(
        ["cargo", "run", "-q", "-p", "mafs-eval", "--example", "ptb_tokenize"],
        input="\n".join(sentences) + "\n", capture_output=True, text=True, cwd=root,
        check=True)
    rust = proc.stdout.split("\n")
    bad = [k for k in range(n) if java[k][0] != rust[k]]
    for k in bad[:40]:
        nxt = sentences[k + 1] if k + 1 < n else None
        print(f"{sentences[k]!r}  (next line: {nxt!r})\n"
              f"   java: {java[k][0]!r}\n   rust: {rust[k]!r}")
    print(f"{n - len(bad)} of {n} random sentences tokenised identically "
          f"({100 * (n - len(bad)) / n:.2f}%)")
    return not bad


def write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--make-fixtures", action="store_true",
                    help="(re)write the fixture inputs before the reference values")
    ap.add_argument("--differential", type=int, metavar="N",
                    help="only compare the Rust and Java tokenizers on N random sentences")
    args = ap.parse_args()
    if args.differential:
        sys.exit(0 if differential(args.differential) else 1)
    if args.make_fixtures:
        make_caption_fixtures()
        make_vqa_fixtures()
    vqa_reference()
    caption_reference()


if __name__ == "__main__":
    main()
