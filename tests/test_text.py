import unicodedata

from cnnt.content.text import fold, initial, match_key, nfc, place_name, slugify, sort_key


def test_fold_removes_marks_and_d_stroke():
    assert fold("Đũa tre") == "dua tre"
    assert fold("Vĩnh Hoà Phát") == fold("Vĩnh Hòa Phát") == "vinh hoa phat"
    assert fold("  BÁNH   phồng\ttôm ") == "banh phong tom"


def test_fold_handles_decomposed_input():
    assert fold(unicodedata.normalize("NFD", "Thừa Thiên Huế")) == "thua thien hue"


def test_match_key_ignores_tone_placement_and_normalisation_but_not_tones():
    assert match_key("Hoà Bình") == match_key("Hòa Bình")
    assert match_key("Thuỷ") == match_key("thủy")
    assert match_key("khoẻ") == match_key("khỏe")
    assert match_key(unicodedata.normalize("NFD", "Bạc Liêu")) == match_key("Bạc Liêu")
    assert match_key("Hà Nam") != match_key("Hà Năm")
    assert match_key("má") != match_key("mà")


def test_nfc():
    decomposed = unicodedata.normalize("NFD", "Cà Mau")
    assert decomposed != "Cà Mau" and nfc(decomposed) == "Cà Mau"


def test_slugify():
    assert slugify("Khô mực Mỹ Thuyền") == "kho-muc-my-thuyen"
    assert slugify("Bánh_Phồng  Tôm!") == "banh-phong-tom"
    assert slugify("Đồng Tháp") == "dong-thap"


def test_vietnamese_alphabetical_order():
    words = ["đường", "dừa", "bánh", "ăn", "an", "ấm", "ạ", "à", "a", "á", "ả", "ã", "ơn", "ốc", "xoài", "ong"]
    assert sorted(words, key=sort_key) == [
        "a", "à", "á", "ả", "ã", "ạ", "an", "ăn", "ấm", "bánh", "dừa", "đường", "ong", "ốc", "ơn", "xoài"]


def test_order_is_case_insensitive_and_stable_for_nfd():
    assert sort_key("Đà Nẵng") == sort_key(unicodedata.normalize("NFD", "đà nẵng"))


def test_initial_letter_keeps_vietnamese_letters():
    assert [initial(w) for w in ["đũa", "Dừa", "ấm", "ơn", "Ắc", "12 con giáp", "  bánh"]] == ["Đ", "D", "Â", "Ơ", "Ă", "#", "B"]


def test_other_tone_placement_swaps_old_and_new_style():
    from cnnt.content.text import other_tone_placement
    assert other_tone_placement("Hòa Bình") == "Hoà Bình"
    assert other_tone_placement("Khánh Hoà") == "Khánh Hòa"
    assert other_tone_placement("Thủy sản") == "Thuỷ sản" and other_tone_placement("Thuỷ") == "Thủy"
    assert other_tone_placement("Cà Mau") == "Cà Mau"


def test_sort_key_word_by_word_is_the_key_of_the_whole_text():
    """`sort_key` joins the kept keys of words; it must give what working through the whole text does,
    for any text: marks composed or not, at the start of a word, case that changes length, spaces."""
    import random
    import unicodedata

    from cnnt.content.text import _key_of_lowered
    pieces = ["a", "ă", "â", "đ", "Đ", "ê", "ô", "ơ", "ư", "y", "z", "Q", "0", "9", "-", ".", "İ", "Σ", "ß",
              "hoà", "hòa", "Thuỷ", "Thủy", "Bánh", "tráng", "Ậ", "\u0301", "\u0323", "\u0302", "\u031b", "\u0308",
              "\u034f", " ", " ", "  ", "\u00a0", "\t", "日", "ǅ"]
    rng = random.Random(20261202)
    texts = ["", " ", "\u0301", " \u0301a", "a \u0302", "ΑΣ ΑΣ", "Bánh tráng  Trảng Bàng"]
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        texts += [text, unicodedata.normalize("NFD", text), unicodedata.normalize("NFC", text)]
    for text in texts:
        assert sort_key.__wrapped__(text) == _key_of_lowered(text.lower()), repr(text)


def test_place_names_lose_their_marks_on_english_pages_only():
    """As the English names of provinces and communes are written ("Vinh Long", "Mo Cay Commune"):
    "Lam Dong (formerly Binh Thuan)", not half of each; case and punctuation stay."""
    assert place_name("Bình Thuận", "en") == "Binh Thuan"
    assert place_name("Đắk Nông", "en") == "Dak Nong"
    assert place_name("Bà Rịa – Vũng Tàu", "en") == "Ba Ria – Vung Tau"
    assert place_name(unicodedata.normalize("NFD", "Thừa Thiên Huế"), "en") == "Thua Thien Hue"
    assert place_name("Bình Thuận", "vi") == "Bình Thuận"
