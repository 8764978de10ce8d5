#!/usr/bin/env python3
"""Generate a synthetic catalogue: `python bench/generate.py N OUT_DIR` (N products, N/5 facilities).

Entries look like real ones: Vietnamese names and ~200-word descriptions, awards at every level
(some expired), export markets, certifications, a third of them translated into English. The
output is deterministic for a given N, so benchmark runs compare like with like.
"""
from __future__ import annotations

import random
import sys
from pathlib import Path

PRODUCT_KINDS = [
    ("food", "Bánh phồng tôm"), ("food", "Khô mực"), ("food", "Tôm khô"), ("food", "Nước mắm"), ("food", "Kẹo dừa"),
    ("food", "Cà phê rang xay"), ("food", "Chè shan tuyết"), ("food", "Bánh pía"), ("food", "Mắm tôm"),
    ("food", "Gạo thơm"), ("food", "Mật ong"), ("food", "Tương ớt"), ("food", "Hạt điều rang muối"),
    ("handicraft", "Bình gốm men lam"), ("handicraft", "Giỏ mây tre đan"), ("handicraft", "Đũa tre"),
    ("handicraft", "Chiếu cói"), ("handicraft", "Tranh sơn mài"), ("handicraft", "Khăn thổ cẩm"),
    ("machinery", "Máy cho tôm ăn tự động"), ("machinery", "Máy sấy nông sản"), ("machinery", "Máy tách hạt ngô"),
    ("machinery", "Lưỡi cày"), ("machinery", "Máy sục khí"), ("other", "Áo sơ mi"), ("other", "Khăn bông"),
    ("other", "Túi vải không dệt"),
]
PLACES = ["Cà Mau", "Cần Thơ", "Đà Lạt", "Phan Thiết", "Bến Tre", "Huế", "Bát Tràng", "Mai Châu", "Suối Giàng",
          "Đông Sơn", "Vĩnh Châu", "Phú Vinh", "Sông Công", "Hội An", "Nam Định", "Tân Châu", "Sa Đéc"]
PROVINCES = ["Cà Mau", "Bạc Liêu", "Sóc Trăng", "Cần Thơ", "Lâm Đồng", "Bình Thuận", "Bến Tre", "Vĩnh Long",
             "Thừa Thiên Huế", "Hà Nội", "Hà Tây", "Hoà Bình", "Yên Bái", "Thanh Hóa", "Thái Nguyên", "Nam Định",
             "Quảng Nam", "Đồng Tháp", "An Giang", "Kiên Giang", "Nghệ An", "Đắk Lắk", "Gia Lai", "Bắc Ninh"]
SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
GIVEN = ["Thành", "Phát", "Lợi", "Hưng", "Thịnh", "An", "Bình", "Đăng", "Hoà", "Tâm", "Minh", "Long", "Phúc", "Thuỷ"]
KINDS = [("cooperative", "HTX"), ("company", "Công ty TNHH"), ("household", "Hộ kinh doanh"),
         ("private-enterprise", "DNTN"), ("other", "Cơ sở")]
MARKETS = ["KR", "TW", "CN", "TH", "JP", "US", "DE", "FR", "AU", "PH", "ES", "NL", "LA", "KH", "SG", "MY", "NO"]
SENTENCES = [
    "{product} được làm từ nguyên liệu tươi thu mua trong ngày tại {place}, theo quy trình khép kín.",
    "Năm {year}, cơ sở được chương trình khuyến công hỗ trợ đầu tư máy móc thiết bị tiên tiến, giúp công suất tăng gấp đôi.",
    "Sản phẩm bảo đảm an toàn vệ sinh thực phẩm, không dùng chất bảo quản và phẩm màu.",
    "Bao bì được thiết kế lại để phù hợp với hệ thống siêu thị và yêu cầu của thị trường xuất khẩu.",
    "Khách hàng đánh giá cao chất lượng đồng đều, mẫu mã đẹp và giá cả hợp lý của {product}.",
    "Cơ sở tạo việc làm ổn định cho {number} lao động nông thôn, phần lớn là phụ nữ trong xã.",
    "Sản phẩm đã tham gia nhiều hội chợ triển lãm công nghiệp nông thôn trong nước và quốc tế.",
    "Mỗi lô hàng đều được kiểm tra độ ẩm, màu sắc và hương vị trước khi đóng gói.",
    "Nghề truyền thống ở {place} được gìn giữ qua nhiều thế hệ và nay kết hợp với công nghệ mới.",
    "Cơ sở nhận đơn hàng gia công theo yêu cầu, giao hàng toàn quốc trong vòng một tuần.",
    "Nguồn nguyên liệu được liên kết với các hộ nông dân và hợp tác xã trong vùng.",
    "Quy trình sản xuất được cải tiến để tiết kiệm điện năng và giảm chất thải ra môi trường.",
]
EN_SENTENCES = [
    "{product} is made from fresh raw materials bought the same day in {place}, in a closed process.",
    "In {year} the workshop received industrial extension support for modern equipment, doubling its output.",
    "The product meets food safety standards and contains no preservatives or colouring.",
    "Its packaging was redesigned for supermarket chains and the requirements of export markets.",
    "Buyers value the consistent quality, good design and fair price of {product}.",
    "The workshop gives steady work to {number} rural workers, most of them women from the commune.",
    "Every batch is checked for moisture, colour and taste before packing.",
    "The traditional craft of {place} has been handed down for generations and now meets new technology.",
]


def paragraph(rng: random.Random, sentences: list[str], count: int, product: str = "Sản phẩm",
              bold: bool = True) -> str:
    """`count` sentences with their slots filled; in descriptions, one word in five paragraphs is bold."""
    text = " ".join(rng.choice(sentences).format(product=product, place=rng.choice(PLACES),
                                                    year=rng.randint(2015, 2025), number=rng.randint(5, 300))
                    for _ in range(count))
    if bold and rng.random() < 0.2:
        words = text.split(" ")
        index = rng.randrange(len(words))
        words[index] = f"**{words[index]}**"
        text = " ".join(words)
    return text


def description(rng: random.Random, sentences: list[str], product: str = "Sản phẩm") -> str:
    """About 200 words in three paragraphs."""
    return "\n\n".join(paragraph(rng, sentences, 4, product) for _ in range(3))


def award_lines(rng: random.Random) -> list[str]:
    lines = []
    for _ in range(rng.randint(0, 3)):
        level = rng.choice(["commune", "provincial", "provincial", "regional", "national"])
        year = rng.randint(2018, 2026)
        region = f", region: {rng.choice(['north', 'central-highlands', 'south'])}" if level == "regional" else ""
        lines.append(f'  - {{level: {level}, year: {year}{region}, decision: "{rng.randint(100, 3999)}/QĐ-UBND"}}')
    return lines


def generate(count: int, out: Path) -> None:
    rng = random.Random(count)
    facilities = max(1, count // 5)
    (out / "facilities").mkdir(parents=True, exist_ok=True)
    (out / "products").mkdir(parents=True, exist_ok=True)
    for index in range(facilities):
        kind, prefix = rng.choice(KINDS)
        name = f"{prefix} {rng.choice(SURNAMES)} {rng.choice(GIVEN)} {rng.choice(PLACES)}"
        (out / "facilities" / f"co-so-{index:05d}.md").write_text(
            f"---\nname: {name}\nkind: {kind}\nprovince: {rng.choice(PROVINCES)}\nfounded: {rng.randint(1990, 2024)}\n"
            f"employees: {rng.randint(5, 300)}\nsummary: {paragraph(rng, SENTENCES, 1, name, bold=False)[:190]}\n"
            f"contact: {{phone: 0900 {index // 1000:03d} {index % 1000:03d}, email: co-so-{index}@example.com}}\n"
            f"support:\n  - {{year: {rng.randint(2015, 2025)}, programme: local, activity: Hỗ trợ máy móc thiết bị, "
            f"amount_vnd: {rng.randint(5, 90) * 10_000_000}}}\n---\n{description(rng, SENTENCES, name)}\n", encoding="utf-8")
    for index in range(count):
        group, kind = rng.choice(PRODUCT_KINDS)
        slug = f"san-pham-{index:06d}"
        awards = award_lines(rng)
        markets = rng.sample(MARKETS, rng.randint(0, 4))
        name = f"{kind} {rng.choice(PLACES)} {rng.choice(GIVEN)}"
        front = [f"name: {name}", f"facility: co-so-{rng.randrange(facilities):05d}",
                 f"group: {group}", f"summary: {paragraph(rng, SENTENCES, 1, name, bold=False)[:190]}"]
        if awards:
            front += ["awards:", *awards]
        if markets:
            front.append(f"export_markets: [{', '.join(markets)}]")
        if rng.random() < 0.4:
            front.append(f"certifications:\n  - {{scheme: ocop, grade: {rng.randint(3, 5)}, year: {rng.randint(2019, 2025)}}}")
        front += ["domestic_channels: [Co.opmart, Shopee]", f"capacity: {{amount: {rng.randint(5, 900)}, unit: t/year}}",
                  "moq: 100 kg", f"tags: [{kind.split()[0].lower()}, đặc sản]"]
        text = "---\n" + "\n".join(front) + f"\n---\n{description(rng, SENTENCES, name)}\n"
        (out / "products" / f"{slug}.md").write_text(text, encoding="utf-8")
        if index % 3 == 0:
            (out / "products" / f"{slug}.en.md").write_text(
                f"---\nname: Product {index} from {rng.choice(PLACES)}\n---\n{description(rng, EN_SENTENCES, 'This product')}\n",
                encoding="utf-8")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or not argv[0].isdigit():
        print(__doc__, file=sys.stderr)
        return 2
    generate(int(argv[0]), Path(argv[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
