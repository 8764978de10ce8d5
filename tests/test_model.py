import datetime as dt

from cnnt.content.model import Award, Contact, Description, Localized, Product
from cnnt.content.vocab import load_vocabularies

VOCAB = load_vocabularies()
LEVEL = VOCAB.award_levels.by_code


def award(level: str, year: int) -> Award:
    return Award(LEVEL[level], year)


def product(*awards: Award) -> Product:
    return Product("p", "p.md", Localized("P"), "f", VOCAB.product_groups.by_code["food"], awards=awards)


def test_award_valid_through_31_december_of_fourth_year():
    a = award("provincial", 2022)
    assert a.valid_until == dt.date(2025, 12, 31)
    assert a.is_valid(dt.date(2022, 1, 1))
    assert a.is_valid(dt.date(2025, 12, 31))
    assert not a.is_valid(dt.date(2026, 1, 1))


def test_award_not_yet_valid_before_its_year():
    assert not award("national", 2026).is_valid(dt.date(2025, 6, 1))


def test_current_award_is_highest_valid_level():
    p = product(award("national", 2020), award("provincial", 2024), award("regional", 2023))
    assert p.current_award(dt.date(2026, 11, 22)).level.code == "regional"  # national of 2020 expired
    assert p.current_award(dt.date(2023, 6, 1)).level.code == "national"


def test_expired_awards_never_count():
    p = product(award("national", 2019), award("provincial", 2021))
    assert p.current_award(dt.date(2026, 11, 22)) is None


def test_most_recent_award_wins_among_equal_levels():
    p = product(award("provincial", 2023), award("provincial", 2025))
    assert p.current_award(dt.date(2026, 1, 1)).year == 2025


def test_localized_falls_back_to_vietnamese():
    assert Localized("Bánh", None).get("en") == "Bánh"
    assert Localized("Bánh", "Cake").get("en") == "Cake"
    assert Localized("Bánh", "Cake").get("vi") == "Bánh"


def test_a_description_reads_as_localized_text_and_is_held_compressed():
    html = "<p>Bánh phồng tôm Cà Mau được làm từ tôm tươi, bột năng và gia vị.</p>\n" * 40
    both = Description.of(html, "<p>Prawn crackers.</p>")
    only_vi = Description.of(html)
    assert both.vi == both["vi"] == html and both.en == both["en"] == "<p>Prawn crackers.</p>"
    assert only_vi.en is None and only_vi.get("en") == html, "English falls back to Vietnamese, as Localized does"
    assert Description.of(html, "").en is None, "an empty translation is none"
    assert not Description.of("") and not Description() and only_vi and Description.of("", "<p>x</p>")
    assert both == Description.of(html, "<p>Prawn crackers.</p>") and both != only_vi
    assert both.packed("vi") == only_vi.packed("en") != both.packed("en")
    assert len(both.packed_vi) * 10 < len(html.encode("utf-8")), "kept compressed, not as the text"
    assert not any(isinstance(value, str) for value in vars(both).values())


def test_contact_links():
    contact = Contact(phone="+84 290 3.831-234", zalo="0900 000 101")
    assert contact.tel_link == "tel:+842903831234"
    assert contact.zalo_link == "https://zalo.me/0900000101"


def test_vocabulary_terms_pickle_as_references_to_the_loaded_vocabulary(monkeypatch):
    """The engine's cache and the parse workers pickle entries: their terms come back as the very terms
    this process read, not copies; a term that now says something else makes the pickle unreadable."""
    import pickle

    import pytest

    from cnnt.content import vocab
    from cnnt.content.vocab import Term
    vocabularies = load_vocabularies()  # the last read: its terms are the ones pickles name
    province = vocabularies.provinces.by_code["ca-mau"]
    levels = vocabularies.award_levels.by_code
    entry = Product("p", "p.md", Localized("P"), "f", vocabularies.product_groups.by_code["food"],
                    awards=(Award(levels["national"], 2024), Award(levels["provincial"], 2022)))
    back = pickle.loads(pickle.dumps(entry))
    assert back == entry and back.group is entry.group and back.awards[0].level is entry.awards[0].level
    assert pickle.loads(pickle.dumps(province)) is province
    assert len(pickle.dumps(province)) < 120 < len(pickle.dumps(Term(**{**province.__dict__, "vocabulary": ""})))
    made_here = Term("5", "5 sao OCOP", "5-star OCOP", 5)  # not from a vocabulary: pickled whole
    assert pickle.loads(pickle.dumps(made_here)) == made_here
    blob = pickle.dumps(province)
    monkeypatch.setitem(vocab._LOADED, ("provinces", "ca-mau"),
                        (province, vocab._term_digest(Term("ca-mau", "Cà Mau mới", "Ca Mau", 0, province.extra))))
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(blob)


def test_vocabularies_the_same_byte_for_byte_are_read_once_and_a_change_is_read_again(tmp_path, monkeypatch):
    """A build reads the vocabularies to unpickle its cache's terms, then to check the content: the
    second reading of the same files gives what the first gave. A file changed is read again, and a
    term it no longer has is not the one an older pickle names."""
    import pickle
    import shutil

    import pytest

    from cnnt.content import vocab
    folder = tmp_path / "vocabularies"
    shutil.copytree(vocab.VOCABULARY_DIR, folder)
    readings: list = []
    read = vocab._read_vocabularies
    monkeypatch.setattr(vocab, "_read_vocabularies", lambda directory: readings.append(directory) or read(directory))
    first = load_vocabularies(folder)
    korea = pickle.dumps(first.countries.by_code["KR"])
    assert load_vocabularies(folder) is first and readings == [folder]
    assert pickle.loads(korea) is first.countries.by_code["KR"]

    countries = folder / "countries.yaml"
    countries.write_text(countries.read_text(encoding="utf-8").replace("\nKR:", "\nXK:", 1), encoding="utf-8")
    second = load_vocabularies(folder)
    assert readings == [folder, folder] and "KR" not in second.countries.by_code and "XK" in second.countries.by_code
    with pytest.raises(pickle.UnpicklingError):
        pickle.loads(korea)
