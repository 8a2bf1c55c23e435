"""Native name lists for the demo population: Polish, Turkish and Indian owners and shops.

Plain data, NFC text. Polish names keep their diacritics (ą ć ę ł ń ó ś ź ż), Turkish
names their dotted and dotless i (İ ı) and ş ğ ç ö ü; a few Indian shop names are in
Devanagari. E-mail local parts are transliterated to ASCII.
"""
from __future__ import annotations

import functools
import unicodedata

FIRST_NAMES = {
    "PL": {
        "f": ["Zofia", "Anna", "Małgorzata", "Agnieszka", "Katarzyna", "Joanna", "Magdalena",
              "Łucja", "Urszula", "Bożena", "Grażyna", "Justyna", "Marta", "Aleksandra", "Żaneta",
              "Jadwiga", "Halina", "Ewelina", "Paulina", "Kinga"],
        "m": ["Łukasz", "Paweł", "Michał", "Krzysztof", "Tomasz", "Grzegorz", "Wojciech", "Jędrzej",
              "Mikołaj", "Maciej", "Bartłomiej", "Przemysław", "Marcin", "Jakub", "Stanisław",
              "Zbigniew", "Sławomir", "Radosław", "Piotr", "Adam"],
    },
    "TR": {
        "f": ["Şeyma", "Ayşegül", "Elif", "Zeynep", "Gülşen", "Özlem", "Büşra", "Sevgi", "Çiğdem",
              "İpek", "Dilek", "Hülya", "Yağmur", "Gökçe", "Nurgül", "Şule", "Ebru", "Merve",
              "Tuğba", "Ilgın"],
        "m": ["İbrahim", "Mehmet", "Mustafa", "Ömer", "Uğur", "Barış", "Çağrı", "Doğan", "Emre",
              "Gökhan", "Hüseyin", "İsmail", "Kağan", "Oğuz", "Serkan", "Tolga", "Yiğit", "Şahin",
              "Ilgaz", "Burak"],
    },
    "IN": {
        "f": ["Priya", "Lakshmi", "Ananya", "Kavya", "Divya", "Sneha", "Pooja", "Meera", "Aishwarya",
              "Deepika", "Shreya", "Nandini", "Radhika", "Fatima", "Harpreet", "Sunita", "Anjali",
              "Revathi", "Ishita", "Tanvi"],
        "m": ["Arjun", "Rahul", "Vikram", "Aditya", "Rohan", "Suresh", "Karthik", "Sanjay", "Amit",
              "Rajesh", "Venkatesh", "Imran", "Gurpreet", "Manoj", "Siddharth", "Nikhil", "Harish",
              "Prakash", "Abhishek", "Vivek"],
    },
}

# Polish surnames ending in -ski/-cki/-dzki take -ska/-cka/-dzka for women.
LAST_NAMES = {
    "PL": ["Wójcik", "Żółkowski", "Kowalski", "Nowak", "Wiśniewski", "Dąbrowski", "Lewandowski",
           "Kamiński", "Zieliński", "Szymański", "Woźniak", "Kozłowski", "Jabłoński", "Król",
           "Mazur", "Krawczyk", "Piątek", "Grabowski", "Pawłowski", "Michalak", "Sęk", "Ślusarczyk",
           "Gołębiowski", "Bąk", "Wróbel"],
    "TR": ["Yıldız", "Güneş", "Öztürk", "Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Aydın",
           "Özdemir", "Arslan", "Doğan", "Kılıç", "Aslan", "Çetin", "Kara", "Koç", "Kurt", "Özkan",
           "Şimşek", "Polat", "Erdoğan", "Aksoy", "Işık", "Güler"],
    "IN": ["Sharma", "Reddy", "Iyer", "Patel", "Singh", "Gupta", "Nair", "Menon", "Rao", "Das",
           "Mukherjee", "Banerjee", "Khan", "Kapoor", "Mehta", "Joshi", "Pillai", "Verma", "Chatterjee",
           "Agarwal", "Bhat", "Kulkarni", "Deshpande", "Choudhary", "Naidu"],
}

SHOP_WORDS = {
    "PL": {
        "fashion": ["Szafa", "Pracownia Mody", "Butik"], "beauty": ["Naturalna Pielęgnacja", "Mydlarnia"],
        "home_garden": ["Zielony Ogród", "Dom i Wnętrze", "Świece i Dekoracje"],
        "electronics": ["Sklep Elektryczny", "Gadżety"], "food": ["Spiżarnia", "Miód z Pasieki", "Kawiarnia"],
        "kids": ["Zabawki Łąki", "Dziecięcy Świat"], "sports": ["Rower i Góry", "Sportowa Półka"],
        "crafts": ["Ręcznie Robione", "Włóczkownia", "Ceramika"], "health": ["Zdrowa Półka", "Zioła"],
        "other": ["Sklepik", "Rzeczy Różne"],
    },
    "TR": {
        "fashion": ["Butik", "Moda Evi", "Şık Giyim"], "beauty": ["Doğal Bakım", "Güzellik Atölyesi"],
        "home_garden": ["Ev Dekor", "Bahçe Dünyası", "Çini Atölyesi"],
        "electronics": ["Elektronik Dünyası", "Teknoloji Çarşısı"],
        "food": ["Lokum Evi", "Baharatçı", "Zeytinyağı Çiftliği"], "kids": ["Oyuncakçı", "Çocuk Dünyası"],
        "sports": ["Spor Dünyası", "Doğa Sporları"], "crafts": ["El Emeği", "Kilim Atölyesi"],
        "health": ["Şifalı Bitkiler", "Sağlıklı Yaşam"], "other": ["Çarşı", "Dükkan"],
    },
    "IN": {
        "fashion": ["Saree Studio", "Kurta House", "साड़ी भंडार"], "beauty": ["Ayurveda Essentials", "आयुर्वेद घर"],
        "home_garden": ["Handloom Home", "Brass & Clay"], "electronics": ["Gadget Bazaar", "Tech Mart"],
        "food": ["Masala Box", "Chai Corner", "मसाला घर"], "kids": ["Little Elephant Toys", "Kids Bazaar"],
        "sports": ["Cricket Corner", "Yoga Mats India"], "crafts": ["Block Print Studio", "हस्तशिल्प"],
        "health": ["Herbal Roots", "Wellness Kart"], "other": ["Bazaar", "General Store"],
    },
}

CONSULTANTS = {
    "PL": ["Joanna Kubiak", "Tomasz Górski", "Agata Wąsik"],
    "TR": ["Elif Şenol", "Kerem Aydoğan", "Gülay İnce"],
    "IN": ["Neha Kulkarni", "Rajiv Menon", "Sana Qureshi"],
}

MAIN_GOALS = {
    "PL": ["Chcę sprzedawać swoje rękodzieło w całej Polsce", "Przenieść sklep stacjonarny do internetu",
           "Dorobić do pensji po godzinach", "Zbudować markę i wejść na Allegro"],
    "TR": ["El emeği ürünlerimi tüm Türkiye'ye satmak", "Mağazamı internete taşımak",
           "Trendyol'dan bağımsız kendi sitemi kurmak", "Yurt dışına satış yapmak"],
    "IN": ["Sell my handloom sarees across India and abroad", "Take my kirana store online",
           "Build a D2C brand beyond Amazon", "Reach customers in the US and UK"],
}

_TRANSLIT = str.maketrans({"ł": "l", "Ł": "L", "ı": "i", "İ": "I", "ş": "s", "Ş": "S",
                           "ğ": "g", "Ğ": "G", "ç": "c", "Ç": "C", "ö": "o", "Ö": "O",
                           "ü": "u", "Ü": "U", "ż": "z", "Ż": "Z", "ź": "z", "Ź": "Z"})


def feminine(surname: str) -> str:
    """The feminine form of a Polish surname (Żółkowski -> Żółkowska)."""
    for masc, fem in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
        if surname.endswith(masc):
            return surname[: -len(masc)] + fem
    return surname


@functools.lru_cache(maxsize=65536)
def ascii_slug(text: str) -> str:
    """An e-mail-safe ASCII form of a native name (Łukasz Żółkowski -> lukasz.zolkowski)."""
    t = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    t = "".join(c for c in t if c.isascii() and (c.isalnum() or c in " -"))
    return ".".join(p for p in t.lower().replace("-", " ").split() if p)
