"""Meaning sentences of the embedded corpus: small grammars written for this project.

Each language has a few templates (subject, time, place, object, verb ...) filled from word lists
chosen to be rich in what the surface rules change: Korean final consonants before vowels, ㄴ/ㅁ,
ㄹ and ㅎ (liaison, nasalisation, lateralisation, aspiration ...); English th, f, v, r/l, z, final
stops and articles. :func:`sample_sentences` draws distinct sentences of 3 to 7 words.
"""

from __future__ import annotations

import random
from typing import Callable, Dict, List, Sequence

from dualasr.synth.hangul import compose, decompose, has_final

MIN_WORDS, MAX_WORDS = 3, 7

# ----------------------------------------------------------------------------------------- Korean

KO_SUBJECTS = ["저는", "제 친구는", "우리 형은", "우리 언니는", "제 동생은", "선생님은", "아버지는",
               "어머니는", "할머니는", "학생들은", "옆집 아이는", "그 사람은", "우리 가족은", "민수 씨는",
               "지현 씨는", "박 선생님은", "외국인 학생들은", "삼촌은"]
KO_TIMES = {
    "now": ["매일", "요즘", "가끔", "아침마다", "항상", "주말마다", "저녁마다", "밤늦게"],
    "past": ["어제", "지난주에", "어젯밤에", "작년에", "아까", "지난 주말에", "설날에", "그저께"],
    "future": ["내일", "다음 주에", "이따가", "모레", "방학에", "내년에", "이번 주말에"],
}
KO_COMPANIONS = ["친구와 같이", "가족과 같이", "동생이랑 같이", "언니랑 같이", "친구들하고 같이", "혼자"]

# Verbs: (stem, present, past, future) in polite style; the formal style is derived.
EAT_VERBS = [("먹", "먹어요", "먹었어요", "먹을 거예요"), ("만들", "만들어요", "만들었어요", "만들 거예요"),
             ("좋아하", "좋아해요", "좋아했어요", "좋아할 거예요"), ("사", "사요", "샀어요", "살 거예요"),
             ("주문하", "주문해요", "주문했어요", "주문할 거예요"), ("끓이", "끓여요", "끓였어요", "끓일 거예요"),
             ("팔", "팔아요", "팔았어요", "팔 거예요"), ("시키", "시켜요", "시켰어요", "시킬 거예요"),
             ("싫어하", "싫어해요", "싫어했어요", "싫어할 거예요"), ("먹고 싶", "먹고 싶어요", "먹고 싶었어요", "먹고 싶을 거예요")]
FOODS = ["밥", "국물", "떡볶이", "김치", "닭고기", "빵", "과일", "라면", "냉면", "떡국", "볶음밥", "삼겹살",
         "된장국", "불고기", "낙지볶음", "콩국수", "부침개", "팥빙수", "미역국", "비빔밥", "칼국수", "만두",
         "김밥", "생선", "꽃게탕", "닭갈비", "육개장", "순두부", "물냉면", "떡", "옥수수", "복숭아", "식빵"]
FOOD_PLACES = ["식당", "시장", "부엌", "집", "학교 식당", "편의점", "분식집", "기숙사", "휴게소", "백화점",
               "종로", "명동", "신촌", "포장마차", "강릉", "부산"]
READ_VERBS = [("읽", "읽어요", "읽었어요", "읽을 거예요"), ("빌리", "빌려요", "빌렸어요", "빌릴 거예요"),
              ("찾", "찾아요", "찾았어요", "찾을 거예요"), ("사", "사요", "샀어요", "살 거예요"),
              ("잃어버리", "잃어버려요", "잃어버렸어요", "잃어버릴 거예요"), ("받", "받아요", "받았어요", "받을 거예요"),
              ("좋아하", "좋아해요", "좋아했어요", "좋아할 거예요"), ("펼치", "펼쳐요", "펼쳤어요", "펼칠 거예요")]
READINGS = ["책", "신문", "잡지", "소설", "교과서", "동화책", "만화책", "편지", "시집", "역사책", "요리책",
            "설명서", "신라 역사책", "한국어 책", "영어 신문", "그림책", "학습지", "일기장"]
READ_PLACES = ["도서관", "서점", "교실", "기숙사", "카페", "지하철", "독서실", "방", "국립 도서관", "학교"]
THING_VERBS = [("사", "사요", "샀어요", "살 거예요"), ("찾", "찾아요", "찾았어요", "찾을 거예요"),
               ("잃어버리", "잃어버려요", "잃어버렸어요", "잃어버릴 거예요"), ("받", "받아요", "받았어요", "받을 거예요"),
               ("팔", "팔아요", "팔았어요", "팔 거예요"), ("고르", "골라요", "골랐어요", "고를 거예요"),
               ("빌리", "빌려요", "빌렸어요", "빌릴 거예요")]
THINGS = ["옷", "신발", "꽃", "선물", "우산", "안경", "가방", "시계", "꽃다발", "책상", "장갑", "모자",
          "목걸이", "휴대폰", "필통", "지갑", "밥솥", "옷걸이", "숟가락", "젓가락", "목도리", "연필", "꽃병"]
THING_PLACES = ["백화점", "시장", "옷가게", "꽃집", "가게", "학교", "공원", "지하철역", "버스 정류장",
                "동대문 시장", "남대문 시장", "독립문 근처", "대학로"]
GO_VERBS = [("가", "가요", "갔어요", "갈 거예요"), ("오", "와요", "왔어요", "올 거예요"),
            ("다녀오", "다녀와요", "다녀왔어요", "다녀올 거예요"), ("놀러 가", "놀러 가요", "놀러 갔어요", "놀러 갈 거예요"),
            ("걸어가", "걸어가요", "걸어갔어요", "걸어갈 거예요")]
DESTINATIONS = ["학교", "도서관", "시장", "백화점", "박물관", "한라산", "병원", "은행", "공원", "극장",
                "바닷가", "종로", "광화문", "대학로", "설악산", "남산", "신촌", "명동", "강릉", "부산",
                "제주도", "독립문", "국립 박물관", "꽃시장", "약국", "학원", "체육관", "미술관", "놀이공원"]
ACTIVITIES = ["공부", "운동", "숙제", "훈련", "줄넘기", "청소", "요리", "빨래", "산책", "등산", "연습",
              "쇼핑", "축구", "농구", "수영", "독서", "피아노 연습", "설거지", "발표 준비", "한국어 공부",
              "진료", "연락", "이사 준비", "꽃꽂이", "태권도", "낚시", "박물관 견학"]
ACT_PLACES = ["학교", "도서관", "공원", "집", "운동장", "체육관", "학원", "병원", "부엌", "교실", "한강",
              "기숙사", "바닷가", "놀이터", "강릉"]
DO_VERB = ("하", "해요", "했어요", "할 거예요")
# Adjective sentences: (nouns, prefixes, adjectives as (stem, present, past)).
ADJ_GROUPS = [
    (["날씨", "하늘", "바람"], ["오늘", "요즘", "어제", "이번 주", "아침에"],
     [("좋", "좋아요", "좋았어요"), ("맑", "맑아요", "맑았어요"), ("따뜻하", "따뜻해요", "따뜻했어요"),
      ("춥", "추워요", "추웠어요"), ("흐리", "흐려요", "흐렸어요"), ("쌀쌀하", "쌀쌀해요", "쌀쌀했어요"),
      ("시원하", "시원해요", "시원했어요"), ("덥", "더워요", "더웠어요")]),
    (["국물", "김치", "라면", "냉면", "떡볶이", "음식", "칼국수", "닭갈비", "된장국"],
     ["이 식당", "그 집", "오늘", "학교 식당", "시장", "이 가게"],
     [("뜨겁", "뜨거워요", "뜨거웠어요"), ("짜", "짜요", "짰어요"), ("맛있", "맛있어요", "맛있었어요"),
      ("싱겁", "싱거워요", "싱거웠어요"), ("괜찮", "괜찮아요", "괜찮았어요"), ("맵", "매워요", "매웠어요"),
      ("달", "달아요", "달았어요"), ("깔끔하", "깔끔해요", "깔끔했어요"), ("많", "많아요", "많았어요")]),
    (["방", "교실", "부엌", "집", "길", "공원", "도서관", "박물관", "식당", "거실"],
     ["우리", "이", "그", "새", "학교 앞", "오늘"],
     [("넓", "넓어요", "넓었어요"), ("좁", "좁아요", "좁았어요"), ("깨끗하", "깨끗해요", "깨끗했어요"),
      ("밝", "밝아요", "밝았어요"), ("어둡", "어두워요", "어두웠어요"), ("조용하", "조용해요", "조용했어요"),
      ("복잡하", "복잡해요", "복잡했어요"), ("시끄럽", "시끄러워요", "시끄러웠어요"), ("편리하", "편리해요", "편리했어요")]),
    (["꽃", "옷", "경치", "바다", "가방", "신발", "목걸이", "꽃다발", "안경"],
     ["이", "그", "여기", "저", "새", "봄"],
     [("예쁘", "예뻐요", "예뻤어요"), ("좋", "좋아요", "좋았어요"), ("싸", "싸요", "쌌어요"),
      ("비싸", "비싸요", "비쌌어요"), ("멋있", "멋있어요", "멋있었어요"), ("괜찮", "괜찮아요", "괜찮았어요"),
      ("싫", "싫어요", "싫었어요"), ("낡", "낡았어요", "낡았어요")]),
]
KO_ADVERBS = ["정말", "아주", "너무", "조금", "꽤", "진짜", "굉장히", "역시"]
# Short sentences for rules the templates rarely reach (굳이, ㅎ before ㄴ, ...).
KO_EXTRA = ["굳이 택시를 탈 필요 없어요", "굳이 오지 않아도 돼요", "밭이 아주 넓습니다", "해돋이를 같이 봤어요",
            "창문을 닫는 게 좋겠어요", "눈을 감고 있어요", "신라 시대 유물을 봤어요", "물난리가 났어요",
            "칼날이 날카로워요", "원래 그렇게 생각했어요", "난로 옆이 따뜻해요", "일 년 동안 공부했어요",
            "논리가 정말 좋네요", "책을 놓는 곳이 없어요", "그 일은 싫네요", "꽃잎이 떨어졌어요",
            "닭이 꼬꼬댁 울어요", "앞마당에 꽃이 폈어요", "옷을 빨리 입혀요", "문을 닫히게 했어요",
            "밥을 많이 먹었습니다", "값이 정말 싸요", "가격이 너무 비싸요", "학교 앞에 꽃집이 있어요", "국물이 끓는 소리가 나요", "밖에 눈이 많이 와요"]


NO_FUTURE = {"좋아하", "싫어하", "먹고 싶"}


def _formal(verb: tuple, tense: str) -> str:
    """Formal style (-ㅂ니다) of a (stem, present, past, future) verb: 먹 -> 먹습니다, 만들 -> 만듭니다."""
    stem, _present, past, future = (tuple(verb) + ("",))[:4]
    if tense == "past":
        return past[:-2] + "습니다"  # 먹었어요 -> 먹었습니다
    if tense == "future":
        return future.replace("거예요", "겁니다")
    last = decompose(stem[-1])
    if last[2] and last[2] != "ㄹ":
        return stem + "습니다"
    return stem[:-1] + compose(last[0], last[1], "ㅂ") + "니다"  # 가 -> 갑니다, 만들 -> 만듭니다


def _conjugate(verb: tuple, tense: str, rng: random.Random) -> str:
    """Polite (-아요) or, one time in three, formal (-ㅂ니다) form of ``verb`` in ``tense``.

    A verb without a natural future form (좋아하다: liking is not planned) uses the present.
    """
    if tense == "future" and verb[0] in NO_FUTURE:
        tense = "now"
    if rng.random() < 1 / 3:
        return _formal(verb, tense)
    return verb[{"now": 1, "past": 2, "future": 3}[tense]]


def _obj(noun: str) -> str:
    return noun + ("을" if has_final(noun) else "를")


def _subj(noun: str) -> str:
    return noun + ("이" if has_final(noun) else "가")


def _ko_transitive(rng: random.Random, verbs, objects, places) -> str:
    """[subject] [time] [place에서] object verb."""
    tense = rng.choice(list(KO_TIMES))
    parts = [rng.choice(KO_SUBJECTS) if rng.random() < 0.6 else "",
             rng.choice(KO_TIMES[tense]) if rng.random() < 0.6 else "",
             rng.choice(places) + "에서" if rng.random() < 0.5 else "",
             _obj(rng.choice(objects)), _conjugate(rng.choice(verbs), tense, rng)]
    return " ".join(p for p in parts if p)


def _ko_go(rng: random.Random) -> str:
    """[subject] [time] [companion] destination에 verb."""
    tense = rng.choice(list(KO_TIMES))
    parts = [rng.choice(KO_SUBJECTS) if rng.random() < 0.5 else "",
             rng.choice(KO_TIMES[tense]) if rng.random() < 0.6 else "",
             rng.choice(KO_COMPANIONS) if rng.random() < 0.5 else "",
             rng.choice(DESTINATIONS) + "에", _conjugate(rng.choice(GO_VERBS), tense, rng)]
    return " ".join(p for p in parts if p)


def _ko_activity(rng: random.Random) -> str:
    """[subject] [time] [companion] [place에서] activity을 하다."""
    tense = rng.choice(list(KO_TIMES))
    parts = [rng.choice(KO_SUBJECTS) if rng.random() < 0.5 else "",
             rng.choice(KO_TIMES[tense]) if rng.random() < 0.5 else "",
             rng.choice(KO_COMPANIONS) if rng.random() < 0.3 else "",
             rng.choice(ACT_PLACES) + "에서" if rng.random() < 0.5 else "",
             _obj(rng.choice(ACTIVITIES)), _conjugate(DO_VERB, tense, rng)]
    return " ".join(p for p in parts if p)


def _ko_adjective(rng: random.Random) -> str:
    """[prefix] noun이 [adverb] adjective."""
    nouns, prefixes, adjectives = rng.choice(ADJ_GROUPS)
    tense = rng.choice(["now", "past"])
    adj = rng.choice(adjectives)
    parts = [rng.choice(prefixes) if rng.random() < 0.7 else "", _subj(rng.choice(nouns)),
             rng.choice(KO_ADVERBS) if rng.random() < 0.8 else "",
             _conjugate(adj + ("",), tense, rng)]  # adjectives have no future form here
    return " ".join(p for p in parts if p)


# Plain sentences: words (mostly open syllables, present polite verbs) whose standard pronunciation
# is their spelling, so that a Korean utterance can have surface == meaning (distance 0) or differ
# by a learner error or two. Without them almost every sentence fires a rule (distance >= 3).
PLAIN_SUBJECTS = ["저는", "나는", "어머니는", "아버지는", "누나는", "오빠는", "할머니는", "그 아이는",
                  "제 동생은", "우리 누나는", "우리 아버지는", "이모는", "고모는", "우리 부부는"]
PLAIN_TIMES = ["오늘", "내일", "지금", "가끔", "매주", "요새", "아까", "자주", "오후에", "매일 아침"]
PLAIN_PLACES = ["바다에서", "회사에서", "나라에서", "가게에서", "거기서", "여기서", "카페에서", "호수에서",
                "교회에서", "시내에서", "마트에서", "도시에서"]
PLAIN_OBJECTS = ["사과를", "우유를", "커피를", "주스를", "노래를", "바나나를", "나무를", "의자를", "차를",
                 "모자를", "치마를", "구두를", "피아노를", "고기를", "두부를", "라디오를", "머리를", "아이를",
                 "토마토를", "배추를", "오이를", "고구마를", "기차표를", "과자를", "편지를", "지도를"]
PLAIN_VERBS = ["사요", "봐요", "줘요", "마셔요", "불러요", "그려요", "배워요", "기다려요", "가져와요",
               "보내요", "고쳐요", "골라요", "빌려요", "말려요", "나눠요", "치워요", "세워요", "주워요"]
PLAIN_ADVERBS = ["아주", "조금", "매우", "다시", "모두", "혼자", "빨리", "자꾸", "서로"]


def _ko_plain(rng: random.Random) -> str:
    """[subject] [time] [place에서] [adverb] object verb, all pronounced as written (checked)."""
    from dualasr.synth.rules_ko import standard_pronunciation  # rules_ko needs nothing from here

    for _ in range(100):
        parts = [rng.choice(PLAIN_SUBJECTS) if rng.random() < 0.6 else "",
                 rng.choice(PLAIN_TIMES) if rng.random() < 0.5 else "",
                 rng.choice(PLAIN_PLACES) if rng.random() < 0.4 else "",
                 rng.choice(PLAIN_ADVERBS) if rng.random() < 0.4 else "",
                 rng.choice(PLAIN_OBJECTS), rng.choice(PLAIN_VERBS)]
        sentence = " ".join(p for p in parts if p)
        if standard_pronunciation(sentence) == sentence:
            return sentence
    raise AssertionError("the plain Korean word lists hold words that a standard rule changes")


KO_TEMPLATES: List[Callable[[random.Random], str]] = [
    lambda r: _ko_transitive(r, EAT_VERBS, FOODS, FOOD_PLACES),
    lambda r: _ko_transitive(r, READ_VERBS, READINGS, READ_PLACES),
    lambda r: _ko_transitive(r, THING_VERBS, THINGS, THING_PLACES),
    _ko_go, _ko_activity, _ko_adjective, _ko_plain,
]

# ---------------------------------------------------------------------------------------- English

EN_SUBJECTS = ["i", "we", "they", "my brother", "my father", "my mother", "the teacher", "the farmer",
               "the driver", "the doctor", "her brother", "our neighbor", "the children", "three friends",
               "the visitors", "his grandfather", "the waiter", "the pilot", "the zookeeper", "my sister",
               "their father", "the fisherman", "the old lady", "five students", "the firefighter"]
# Verbs: (base, past) and the objects that fit them.
EN_VERB_GROUPS = [
    ([("eat", "ate"), ("cook", "cooked"), ("buy", "bought"), ("serve", "served"), ("freeze", "froze"),
      ("bring", "brought"), ("order", "ordered"), ("fry", "fried"), ("grill", "grilled"), ("share", "shared"),
      ("sell", "sold"), ("taste", "tasted"), ("love", "loved"), ("throw away", "threw away")],
     ["the fish", "fresh bread", "the rice", "three apples", "thick soup", "the pizza", "a frozen pizza",
      "the beef", "fried chicken", "the vegetables", "a fruit salad", "the coffee", "hot chocolate",
      "the cheese", "the carrots", "garlic bread", "the leftover rice", "five lemons", "the grapes",
      "a big sandwich", "the lobster", "the waffles", "red peppers", "the olive oil"]),
    ([("drive", "drove"), ("fix", "fixed"), ("wash", "washed"), ("park", "parked"), ("sell", "sold"),
      ("rent", "rented"), ("borrow", "borrowed"), ("repair", "repaired"), ("paint", "painted"),
      ("find", "found"), ("love", "loved")],
     ["the van", "a silver car", "the old truck", "the black bike", "the fire truck", "a fast boat",
      "the heavy tractor", "the delivery van", "their red bus", "the yellow taxi", "the motorcycle",
      "a fishing boat", "the green jeep", "the three bicycles"]),
    ([("lose", "lost"), ("find", "found"), ("throw", "threw"), ("bring", "brought"), ("leave", "left"),
      ("fix", "fixed"), ("carry", "carried"), ("drop", "dropped"), ("forget", "forgot"),
      ("wrap", "wrapped"), ("give away", "gave away"), ("clean", "cleaned")],
     ["the leather bag", "a heavy box", "the silver ring", "the red gloves", "a thick book",
      "the broken clock", "the blue vase", "the wallet", "a warm sweater", "the phone", "the violin",
      "the feather pillow", "three forks", "the key", "the map", "the jacket", "the gift", "five flags",
      "the zipper bag", "the photos", "a flower pot", "the fridge", "the ladder", "the frame"]),
    ([("feed", "fed"), ("see", "saw"), ("follow", "followed"), ("photograph", "photographed"),
      ("find", "found"), ("love", "loved"), ("draw", "drew")],
     ["the zebra", "the lazy fox", "three rabbits", "a friendly dog", "the lions", "the little frog",
      "the wild horses", "the thirsty goats", "the baby elephant", "the brown bear", "five lizards"]),
    ([("visit", "visited"), ("call", "called"), ("thank", "thanked"), ("help", "helped"), ("meet", "met"),
      ("find", "found"), ("follow", "followed"), ("forget", "forgot")],
     ["their father", "the village doctor", "my grandmother", "a brave firefighter", "the tourists",
      "the singer", "the zookeeper", "the farmer", "our teacher", "a famous writer", "the twins"]),
]
EN_PLACES = ["at the zoo", "in the library", "on the farm", "at the river", "near the bridge",
             "in the village", "at the market", "in the forest", "at the theater", "by the lake",
             "in the park", "at the festival", "in the valley", "at the factory", "on the hill",
             "at the gallery", "in the kitchen", "at the office", "on the street", "at the harbor"]
EN_TIMES = ["on friday", "on thursday", "last night", "every morning", "this evening", "last weekend",
            "yesterday", "today", "in the fall", "three days ago", "last february", "every summer",
            "in the winter", "after lunch", "at lunch", "on the weekend", "every thursday"]
EN_MODALS = ["will", "can", "should", "would", "must", "never", "always"]  # + base form
# Adjective sentences: (singular nouns, plural nouns, adjectives).
EN_ADJ_GROUPS = [
    (["the soup", "the fish", "the bread", "the pizza", "the coffee", "the salad", "the rice", "the cheese",
      "the beef", "the fruit"], ["the vegetables", "the grapes", "the waffles", "the apples"],
     ["fresh", "thick", "hot", "cold", "delicious", "salty", "sweet", "terrible", "perfect", "frozen", "spicy", "bitter"]),
    (["the weather", "the river", "the wind", "the forest", "the valley", "the village", "the sky",
      "the lake", "the bridge"], ["the streets", "the hills", "the fields"],
     ["cold", "warm", "foggy", "freezing", "lovely", "beautiful", "quiet", "dark", "dry", "rough", "calm", "wet", "frozen"]),
    (["the van", "the bag", "the violin", "the box", "the leather jacket", "the fridge", "the truck",
      "the sofa", "the bike"], ["the gloves", "the boxes", "the forks", "the bicycles"],
     ["heavy", "light", "old", "fast", "cheap", "expensive", "dirty", "clean", "broken", "fragile", "huge", "soft", "red"]),
    (["the zebra", "the fox", "the lion", "the frog", "the horse", "the dog", "the elephant"],
     ["the rabbits", "the horses", "the goats", "the zebras", "the lions"],
     ["lazy", "fast", "brave", "friendly", "wild", "clever", "small", "fluffy", "fierce", "thirsty", "hungry"]),
    (["the zoo", "the library", "the theater", "the farm", "the market", "the festival", "the gallery",
      "the factory", "the office"], ["the shops", "the restaurants", "the theaters"],
     ["crowded", "quiet", "free", "full", "busy", "empty", "famous", "crazy", "fun", "far", "friendly"]),
]
EN_ADVERBS = ["very", "really", "too", "so", "quite", "rather", "pretty", "extremely"]
EN_NUMBERS = ["two", "three", "five", "seven", "thirty", "fifty", "many", "some", "a few", "forty"]
EN_PLURALS = ["zebras", "frogs", "rabbits", "foxes", "wolves", "fish", "vans", "trucks", "violins", "flowers",
              "thieves", "farmers", "tourists", "lizards", "giraffes", "bottles", "feathers", "leaves",
              "birds", "lions", "bridges", "clocks", "sheep", "brothers", "drivers", "pilots", "frames"]
EN_THINK = ["i think", "we think", "they think", "i thought", "we thought", "my father thinks", "she thinks"]


def _en_past(rng: random.Random) -> str:
    """subject verb-past object [place | time]."""
    verbs, objects = rng.choice(EN_VERB_GROUPS)
    tail = rng.choice([rng.choice(EN_PLACES), rng.choice(EN_TIMES), ""])
    return " ".join(p for p in [rng.choice(EN_SUBJECTS), rng.choice(verbs)[1], rng.choice(objects), tail] if p)


def _en_modal(rng: random.Random) -> str:
    """subject modal verb object [place | time]."""
    verbs, objects = rng.choice(EN_VERB_GROUPS)
    tail = rng.choice([rng.choice(EN_PLACES), rng.choice(EN_TIMES), ""])
    parts = [rng.choice(EN_SUBJECTS), rng.choice(EN_MODALS), rng.choice(verbs)[0], rng.choice(objects), tail]
    return " ".join(p for p in parts if p)


def _en_adjective(rng: random.Random) -> str:
    """[i think] noun is/was [adverb] adjective."""
    singular, plural, adjectives = rng.choice(EN_ADJ_GROUPS)
    is_plural = rng.random() < 0.3
    noun = rng.choice(plural if is_plural else singular)
    think = rng.choice(EN_THINK) if rng.random() < 0.3 else ""
    past = "thought" in think or (not think and rng.random() < 0.5)
    verb = ("were" if is_plural else "was") if past else ("are" if is_plural else "is")
    adverb = rng.choice(EN_ADVERBS) if rng.random() < 0.7 else ""
    return " ".join(p for p in [think, noun, verb, adverb, rng.choice(adjectives)] if p)


def _en_there(rng: random.Random) -> str:
    """there were/are <number> <animals or things> <place>."""
    verb = rng.choice(["were", "are"])
    return f"there {verb} {rng.choice(EN_NUMBERS)} {rng.choice(EN_PLURALS)} {rng.choice(EN_PLACES)}"


EN_TEMPLATES: List[Callable[[random.Random], str]] = [_en_past, _en_past, _en_modal, _en_adjective, _en_adjective, _en_there]

TEMPLATES: Dict[str, Sequence[Callable[[random.Random], str]]] = {"ko": KO_TEMPLATES, "en": EN_TEMPLATES}
EXTRAS: Dict[str, List[str]] = {"ko": KO_EXTRA, "en": []}


def sample_sentences(lang: str, n: int, rng: random.Random) -> List[str]:
    """``n`` distinct meaning sentences of 3 to 7 words, in draw order (deterministic given ``rng``).

    The hand-written extras come first (their share shrinks as ``n`` grows), then template draws.
    """
    out: List[str] = []
    seen = set()
    extras = list(EXTRAS[lang])
    rng.shuffle(extras)
    candidates = iter(extras[: n // 10])
    tries = 0
    while len(out) < n:
        sentence = next(candidates, None) or rng.choice(TEMPLATES[lang])(rng)
        tries += 1
        if tries > 100 * n + 1000:
            raise ValueError(f"{lang}: the grammar cannot give {n} distinct sentences")
        if MIN_WORDS <= len(sentence.split()) <= MAX_WORDS and sentence not in seen:
            seen.add(sentence)
            out.append(sentence)
    rng.shuffle(out)  # spread the extras over the splits
    return out
