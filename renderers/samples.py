"""Sample pictures: personas across PL, TR and IN, and deliberately hard profiles.

Used by the golden-file tests, the browser test, the benchmarks and anyone who wants
to see the picture without a database. Built directly as ``PictureInput`` (not through
the adapter) so that the renderer's tests do not move when the interview schema does.
"""

from __future__ import annotations

from datetime import date

from .picture_input import PictureInput, ScoreInfo


def _cl(**entries: tuple[str, str, str, str]) -> dict[str, dict[str, str]]:
    """Choice labels: ``field__choice=(en, pl, tr, hi)`` ("__" stands for ":", "_dot_" for ".")."""
    out = {}
    for key, (en, pl, tr, hi) in entries.items():
        field, choice = key.split("__", 1)
        out[f"{field.replace('_dot_', '.')}:{choice.replace('_dot_', '.')}"] = {"en": en, "pl": pl, "tr": tr, "hi": hi}
    return out


_TOPICS = {
    "store_setup": ("Store setup", "Konfiguracja sklepu", "Mağaza kurulumu", "स्टोर सेटअप"),
    "product_photos": ("Product photos", "Zdjęcia produktów", "Ürün fotoğrafları", "उत्पाद की तस्वीरें"),
    "payments": ("Payments", "Płatności", "Ödemeler", "भुगतान"),
    "shipping": ("Shipping", "Wysyłka", "Kargo", "शिपिंग"),
    "marketing": ("Marketing", "Marketing", "Pazarlama", "मार्केटिंग"),
    "seo": ("SEO", "SEO", "SEO", "SEO"),
    "legal": ("Legal requirements", "Wymogi prawne", "Yasal gereklilikler", "कानूनी ज़रूरतें"),
    "marketplaces": ("Marketplaces", "Marketplace'y", "Pazaryerleri", "मार्केटप्लेस"),
    "international": ("Selling abroad", "Sprzedaż za granicę", "Yurt dışına satış", "विदेश में बिक्री"),
    "invoicing": ("Invoicing and accounting", "Fakturowanie i księgowość", "Faturalama ve muhasebe", "इनवॉइस और हिसाब-किताब"),
}


def _topic_labels() -> dict[str, dict[str, str]]:
    out = {}
    for key, (en, pl, tr, hi) in _TOPICS.items():
        for field in ("experience.known_topics", "needs.help_with"):
            out[f"{field}:{key}"] = {"en": en, "pl": pl, "tr": tr, "hi": hi}
    return out


_COMMON = {
    **_topic_labels(),
    **_cl(
        business_dot_type__handmade=("Handmade / crafts", "Rękodzieło", "El yapımı", "हस्तनिर्मित / शिल्प"),
        business_dot_type__online_store=("Existing online store", "Istniejący sklep internetowy", "Mevcut çevrimiçi mağaza", "मौजूदा ऑनलाइन शॉप"),
        business_dot_type__offline_store=("Existing offline store", "Istniejący sklep stacjonarny", "Mevcut fiziksel mağaza", "मौजूदा ऑफ़लाइन शॉप"),
        business_dot_type__manufacturer=("Manufacturer", "Producent", "Üretici", "निर्माता"),
        business_dot_type__new_brand=("New brand", "Nowa marka", "Yeni marka", "नया ब्रांड"),
        business_dot_category__home_garden=("Home and garden", "Dom i ogród", "Ev ve bahçe", "घर और बगीचा"),
        business_dot_category__electronics=("Electronics", "Elektronika", "Elektronik", "इलेक्ट्रॉनिक्स"),
        business_dot_category__fashion=("Fashion", "Moda", "Moda", "फ़ैशन"),
        business_dot_category__food=("Food and drink", "Żywność i napoje", "Yiyecek ve içecek", "खाना-पीना"),
        business_dot_category__beauty=("Beauty", "Uroda", "Güzellik", "सौंदर्य"),
        readiness__readiness_dot_payments_connected=("Payments connected", "Płatności podłączone", "Ödeme bağlandı", "भुगतान जुड़े हुए"),
        readiness__readiness_dot_etbis_registered=("ETBİS registration done", "Rejestracja w ETBİS", "ETBİS kaydı yapıldı", "ETBİS पंजीकरण हो गया"),
        readiness__readiness_dot_gst_registered=("GST registration done", "Rejestracja GST", "GST kaydı yapıldı", "GST पंजीकरण हो गया"),
        readiness__readiness_dot_domain_connected=("Own domain connected", "Własna domena podłączona", "Alan adı bağlandı", "अपना डोमेन जुड़ा हुआ"),
        readiness__readiness_dot_products_added=("Products added", "Produkty dodane", "Ürünler eklendi", "उत्पाद जोड़े गए"),
        features_dot_payments__payu=("PayU", "PayU", "PayU", "PayU"),
        features_dot_payments__blik=("BLIK", "BLIK", "BLIK", "BLIK"),
        features_dot_payments__przelewy24=("Przelewy24", "Przelewy24", "Przelewy24", "Przelewy24"),
        features_dot_payments__iyzico=("iyzico", "iyzico", "iyzico", "iyzico"),
        features_dot_payments__razorpay=("Razorpay", "Razorpay", "Razorpay", "Razorpay"),
        features_dot_payments__razorpay_international=("Razorpay international", "Razorpay międzynarodowy", "Razorpay uluslararası", "Razorpay अंतरराष्ट्रीय"),
        features_dot_payments__upi=("UPI", "UPI", "UPI", "UPI"),
        features_dot_payments__cash_on_delivery=("Cash on delivery", "Płatność przy odbiorze", "Kapıda ödeme", "कैश ऑन डिलीवरी"),
        features_dot_shipping__inpost=("InPost", "InPost", "InPost", "InPost"),
        features_dot_shipping__dpd=("DPD", "DPD", "DPD", "DPD"),
        features_dot_shipping__yurtici=("Yurtiçi Kargo", "Yurtiçi Kargo", "Yurtiçi Kargo", "Yurtiçi Kargo"),
        features_dot_shipping__aras=("Aras Kargo", "Aras Kargo", "Aras Kargo", "Aras Kargo"),
        features_dot_shipping__shiprocket=("Shiprocket", "Shiprocket", "Shiprocket", "Shiprocket"),
        features_dot_marketplaces__allegro=("Allegro", "Allegro", "Allegro", "Allegro"),
        features_dot_marketplaces__trendyol=("Trendyol", "Trendyol", "Trendyol", "Trendyol"),
        features_dot_marketplaces__hepsiburada=("Hepsiburada", "Hepsiburada", "Hepsiburada", "Hepsiburada"),
        features_dot_marketplaces__amazon_in=("Amazon.in", "Amazon.in", "Amazon.in", "Amazon.in"),
        features_dot_marketplaces__flipkart=("Flipkart", "Flipkart", "Flipkart", "Flipkart"),
        features_dot_invoicing__fakturownia=("Fakturownia", "Fakturownia", "Fakturownia", "Fakturownia"),
        features_dot_invoicing__parasut=("Paraşüt", "Paraşüt", "Paraşüt", "Paraşüt"),
        features_dot_invoicing__zoho_books=("Zoho Books", "Zoho Books", "Zoho Books", "Zoho Books"),
        features_dot_marketing__google_ads=("Google Ads", "Google Ads", "Google Ads", "Google Ads"),
        features_dot_marketing__meta_ads=("Meta ads", "Reklamy Meta", "Meta reklamları", "Meta विज्ञापन"),
        features_dot_marketing__newsletter=("Newsletter", "Newsletter", "E-bülten", "न्यूज़लेटर"),
    ),
}

AS_OF = date(2026, 11, 11)
LAST_CALL = date(2026, 11, 3)

# Hard strings: the picture must keep every one of them inside its box.
LONG_NAME_80 = "Małgorzata Brzęczyszczykiewicz-Szczebrzeszyńska v. Żółtowska-Gąsiorowska z Łodzi"
TURKISH_NAME = "İPEK IŞIL ÇAĞLAYAN-İNCEOĞLU (Istanbul ışıklı dükkân)"
DEVANAGARI_NAME = "प्रिया शर्मा — श्री गणेश हस्तशिल्प एवं वस्त्र भंडार"
EMOJI_TEXT = "🕯️ Candles & soaps 👩‍👧 🇵🇱 ✨ handmade with ❤️ — ship fast 🚚💨"
RTL_TEXT = "\u202eevil\u202c name \u200fمتجر\u200f \u2067abc\u2069"
HOSTILE_TEXT = '<script>alert("x")</script>]]><!-- --> &amp; \x00\x1b[31m "quoted" \'single\' onload=alert(1)'


def personas() -> dict[str, tuple[PictureInput, str]]:
    """Named sample pictures with the consultant language each is shown in."""
    return {
        # PL: a mother on parental leave, first steps, deliberates for months.
        "pl_first_steps": (PictureInput(
            shop_id="PL-104233", owner_name="Agnieszka Wiśniewska", market="PL", merchant_language="pl",
            persona="first_steps", hours_per_week=8, experience_level="none",
            known_topics=("product_photos",), needs=("payments", "shipping", "legal", "marketing"),
            main_goal="Chcę sprzedawać ręcznie robione świece sojowe w całej Polsce, zanim skończy się mój urlop macierzyński.",
            business_type="handmade", business_category="home_garden", business_model="b2c",
            catalogue_size=14, turnover_band="small", turnover_amount=6000, turnover_currency="PLN",
            sells_abroad=False, stage="payments_shipping", percent=30,
            first_open="readiness.payments_connected",
            features={"payments": (False, ()), "shipping": (True, ("inpost",)), "marketplaces": (False, ()),
                      "invoicing": (None, ()), "marketing": (None, ()), "domain": (False, ())},
            score=ScoreInfo(0.34, "Added 14 products in week one; no payment method yet", False),
            next_step="Connect Przelewy24 with BLIK together on this call; then show InPost lockers as the default.",
            changed=frozenset({"readiness.percent", "features.shipping"}), added=frozenset({"business.catalogue_size"}),
            as_of=AS_OF, last_contact=LAST_CALL, choice_labels=_COMMON), "pl"),
        # PL: an e-commerce manager moving a large shop, 80-character name.
        "pl_ecommerce_pro": (PictureInput(
            shop_id="PL-000001-ENTERPRISE-MIGRATION", owner_name=LONG_NAME_80, market="PL", merchant_language="pl",
            persona="ecommerce_pro", hours_per_week=50, experience_level="expert",
            known_topics=tuple(_TOPICS), needs=("invoicing", "marketplaces"),
            main_goal="Migracja 12 000 SKU z Magento bez utraty pozycji w Google; integracja z KSeF przed 1 kwietnia.",
            business_type="online_store", business_category="electronics", business_model="both",
            catalogue_size=12000, turnover_band="very_large", turnover_amount=4500000, turnover_currency="PLN",
            sells_abroad=True, stage="legal", percent=73, first_open="readiness.ksef_ready",
            first_open_label="KSeF e-invoicing ready",
            features={"payments": (True, ("payu", "blik", "przelewy24")), "shipping": (True, ("inpost", "dpd")),
                      "marketplaces": (True, ("allegro",)), "invoicing": (True, ("fakturownia",)),
                      "marketing": (True, ("google_ads", "meta_ads", "newsletter")),
                      "domain": (True, ("sklep.bardzo-dluga-nazwa-domeny-przedsiebiorstwa.com.pl",))},
            score=ScoreInfo(0.87, "Expert, 50 h a week, 73 % ready, large catalogue imported", False),
            next_step="Book a KSeF integration session with their accountant; confirm the Allegro category mapping.",
            changed=frozenset({"features.marketplaces", "score"}), as_of=AS_OF, last_contact=LAST_CALL,
            choice_labels=_COMMON), "en"),
        # TR: decides fast, marketplace seller, Turkish dotted/dotless i everywhere.
        "tr_marketplace_fast": (PictureInput(
            shop_id="TR-556071", owner_name=TURKISH_NAME, market="TR", merchant_language="tr",
            persona="marketplace_seller", hours_per_week=35, experience_level="intermediate",
            known_topics=("marketplaces", "shipping", "product_photos"), needs=("legal", "seo"),
            main_goal="Trendyol'daki mağazamı kendi sitemle birleştirmek; İzmir ve Iğdır'a aynı gün kargo.",
            business_type="offline_store", business_category="fashion", business_model="b2c",
            catalogue_size=340, turnover_band="medium", turnover_amount=850000, turnover_currency="TRY",
            sells_abroad=False, stage="legal", percent=64, first_open="readiness.etbis_registered",
            features={"payments": (True, ("iyzico",)), "shipping": (True, ("yurtici", "aras")),
                      "marketplaces": (True, ("trendyol", "hepsiburada")), "invoicing": (False, ()),
                      "marketing": (None, ()), "domain": (True, ("ışıklıdükkân.com.tr",))},
            score=ScoreInfo(0.78, "Trendyol seller; payments and shipping connected in two days", False),
            next_step="ETBİS kaydını birlikte tamamlayın; e-Arşiv için Paraşüt entegrasyonunu önerin.",
            changed=frozenset({"readiness.percent"}), added=frozenset({"features.domain", "needs.help_with"}),
            as_of=AS_OF, last_contact=LAST_CALL, choice_labels=_COMMON), "tr"),
        # TR: a shop owner moving online; much unknown; emoji and RTL marks in their text.
        "tr_offline_unknowns": (PictureInput(
            shop_id="TR-900412", owner_name="Işık Ayşe Öztürk", market="TR", merchant_language="tr",
            persona="offline_to_online", hours_per_week=None, experience_level=None,
            known_topics=None, needs=("store_setup", "payments"),
            main_goal=EMOJI_TEXT + " " + RTL_TEXT,
            business_type="offline_store", business_category="food", business_model=None,
            catalogue_size=None, turnover_band=None, sells_abroad=None,
            stage="setting_up", percent=10, first_open="readiness.products_added",
            features={"payments": (None, ()), "shipping": (None, ()), "domain": (False, ())},
            score=ScoreInfo(0.22, "Only the survey so far; no activity in the trial shop", True),
            next_step=None, as_of=AS_OF, choice_labels=_COMMON), "tr"),
        # IN: thinks globally, Devanagari name, lakh grouping, international payments.
        "in_global_seller": (PictureInput(
            shop_id="IN-730045", owner_name=DEVANAGARI_NAME, market="IN", merchant_language="hi",
            persona="global_seller", hours_per_week=40, experience_level="intermediate",
            known_topics=("payments", "international", "marketplaces"), needs=("shipping", "legal", "international"),
            main_goal="हाथ से बुने कपड़े अमेरिका और यूरोप में बेचना — with Razorpay international and DHL",
            business_type="manufacturer", business_category="fashion", business_model="both",
            catalogue_size=1250, turnover_band="medium", turnover_amount=1234567, turnover_currency="INR",
            sells_abroad=True, stage="legal", percent=58, first_open="readiness.gst_registered",
            features={"payments": (True, ("razorpay", "razorpay_international", "upi")),
                      "shipping": (True, ("shiprocket",)), "marketplaces": (True, ("amazon_in", "flipkart")),
                      "invoicing": (False, ()), "marketing": (True, ("meta_ads",)), "domain": (None, ())},
            score=ScoreInfo(0.69, "Enabled international payments on day one", False),
            next_step="Check GST registration for inter-state sales; offer the IEC/LUT export checklist.",
            changed=frozenset({"features.payments", "business.sells_abroad"}), as_of=AS_OF, last_contact=LAST_CALL,
            choice_labels=_COMMON), "en"),
        # IN: a side project with almost nothing known, emoji in the name, no score.
        "in_side_project_unknown": (PictureInput(
            shop_id="IN-118822", owner_name="Rahul 🙂 राहुल वर्मा", market="IN", merchant_language="en",
            persona="side_project", hours_per_week=6, experience_level="beginner",
            known_topics=(), needs=None, main_goal=None,
            business_type="new_brand", business_category="beauty", business_model="b2c",
            catalogue_size=0, turnover_band="micro", turnover_amount=None, turnover_currency=None,
            sells_abroad=None, stage=None, percent=None, first_open=None,
            features=None, score=None, next_step=None, as_of=AS_OF, choice_labels=_COMMON), "en"),
        # Nothing known at all.
        "unknown_everything": (PictureInput(), "en"),
        # Hostile text in every text field (safety and fitting, not a persona).
        "hostile": (PictureInput(
            shop_id=HOSTILE_TEXT, owner_name=HOSTILE_TEXT + LONG_NAME_80, market="PL", merchant_language="pl",
            persona="first_steps", hours_per_week=12.5, experience_level="expert",
            known_topics=(HOSTILE_TEXT, RTL_TEXT, EMOJI_TEXT, LONG_NAME_80, "seo", "x" * 200),
            needs=(DEVANAGARI_NAME, TURKISH_NAME) * 4, main_goal=(HOSTILE_TEXT + " ") * 5,
            business_type=RTL_TEXT, business_category=EMOJI_TEXT * 3, business_model="b2b",
            catalogue_size=10 ** 9, turnover_band="very_large", turnover_amount=9.99e12, turnover_currency="PLN",
            sells_abroad=True, stage="ready", percent=100, first_open=None,
            features={c: (True, (HOSTILE_TEXT, LONG_NAME_80, DEVANAGARI_NAME)) for c in
                      ("payments", "shipping", "marketplaces", "invoicing", "marketing", "domain")},
            score=ScoreInfo(1.0, HOSTILE_TEXT * 3, True), next_step=(EMOJI_TEXT + " " + DEVANAGARI_NAME + " ") * 4,
            changed=frozenset({"owner.name", "owner.language", "persona", "owner.hours_per_week", "experience.level",
                               "business.type", "business.category", "readiness.first_open", "next_step"}),
            added=frozenset({"experience.known_topics", "needs.help_with", "needs.main_goal", "business.model",
                             "business.catalogue_size", "business.turnover", "business.sells_abroad", "score",
                             "readiness.stage", "readiness.percent",
                             *(f"features.{c}" for c in ("payments", "shipping", "marketplaces", "invoicing",
                                                          "marketing", "domain"))}),
            as_of=AS_OF, last_contact=LAST_CALL), "pl"),
    }


#: The personas a golden file is kept for (PL, TR and IN, two each).
GOLDEN_PERSONAS = (
    "pl_first_steps", "pl_ecommerce_pro", "tr_marketplace_fast", "tr_offline_unknowns",
    "in_global_seller", "in_side_project_unknown", "unknown_everything",
)
