"""The clerk's phrase book and the fixed texts of the counter screen, in every counter language.

Phrases come from the glossary (``glossary/data/phrases``): verified sentences shown and spoken without
MT. The fixed texts (the privacy promise, "not an official interpreter", the few words of the
resident's side) live here, written for all ten languages plus Easy Japanese. Like the glossary, they
are ``draft`` until a translator signs them off.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Final

from glossary.languages import ENGLISH_NAMES, NATIVE_NAMES

_LOGGER = logging.getLogger(__name__)

#: The promise shown to the resident in their language (draft translations).
PROMISE: Final[dict[str, str]] = {
    "ja": "これは機械翻訳です。お話しの内容は記録されず、会話が終わると消去されます。"
    "人の通訳を頼むこともできます。",
    "ja-easy": "これは きかいの ほんやくです。あなたの ことばは のこりません。はなしが おわると けします。"
    "ひとの つうやくも たのめます。",
    "en": "This is machine translation. Your words are not recorded and are erased when the conversation "
    "ends. You can ask for a human interpreter.",
    "vi": "Đây là bản dịch máy. Lời nói của bạn không được ghi lại và sẽ bị xóa khi cuộc trò chuyện kết "
    "thúc. Bạn có thể yêu cầu một phiên dịch viên.",
    "zh": "这是机器翻译。您说的话不会被记录，对话结束后会被删除。您可以要求人工口译。",
    "tl": "Ito ay pagsasaling makina. Hindi nire-record ang inyong mga salita at buburahin ang mga ito "
    "pagkatapos ng usapan. Maaari kayong humingi ng taong interpreter.",
    "pt": "Esta é uma tradução automática. Suas palavras não são gravadas e são apagadas quando a conversa "
    "termina. Você pode pedir um intérprete humano.",
    "ne": "यो मेसिन अनुवाद हो। तपाईंका कुराहरू रेकर्ड गरिँदैनन् र कुराकानी सकिएपछि मेटिन्छन्। तपाईं मानव दोभाषे माग्न सक्नुहुन्छ।",
    "ko": "이것은 기계 번역입니다. 말씀하신 내용은 기록되지 않으며 대화가 끝나면 삭제됩니다. "
    "사람 통역사를 요청하실 수 있습니다.",
    "id": "Ini adalah terjemahan mesin. Kata-kata Anda tidak direkam dan akan dihapus saat percakapan "
    "selesai. Anda dapat meminta juru bahasa manusia.",
    "es": "Esta es una traducción automática. Sus palabras no se graban y se borran al terminar la "
    "conversación. Puede pedir un intérprete humano.",
}

#: "Not an official interpreter" in every language (draft translations).
NOT_OFFICIAL: Final[dict[str, str]] = {
    "ja": "公式の通訳ではありません。翻訳には誤りがあることがあります。",
    "ja-easy": "これは こうしきの つうやくでは ありません。まちがえる ことが あります。",
    "en": "This is not an official interpreter. Translations may contain mistakes.",
    "vi": "Đây không phải là phiên dịch chính thức. Bản dịch có thể có lỗi.",
    "zh": "这不是官方口译。翻译可能有错误。",
    "tl": "Hindi ito opisyal na interpreter. Maaaring may mali ang pagsasalin.",
    "pt": "Isto não é um intérprete oficial. A tradução pode conter erros.",
    "ne": "यो आधिकारिक दोभाषे होइन। अनुवादमा गल्ती हुन सक्छ।",
    "ko": "공식 통역이 아닙니다. 번역에 오류가 있을 수 있습니다.",
    "id": "Ini bukan juru bahasa resmi. Terjemahan bisa mengandung kesalahan.",
    "es": "Esto no es un intérprete oficial. La traducción puede contener errores.",
}

#: The few words of the resident's side, per language (key → language → text; draft translations).
RESIDENT_UI: Final[dict[str, dict[str, str]]] = {
    "hold_to_speak": {
        "ja": "押しながら話す",
        "ja-easy": "おしながら はなす",
        "en": "Hold to speak",
        "vi": "Giữ để nói",
        "zh": "按住说话",
        "tl": "Pindutin nang matagal para magsalita",
        "pt": "Segure para falar",
        "ne": "बोल्न थिचिराख्नुहोस्",
        "ko": "누르고 말하기",
        "id": "Tahan untuk bicara",
        "es": "Mantenga pulsado para hablar",
    },
    "start_listening": {
        "ja": "タップして聞き取り開始",
        "ja-easy": "おして はなしはじめる",
        "en": "Tap to start listening",
        "vi": "Chạm để bắt đầu nghe",
        "zh": "点击开始聆听",
        "tl": "Pindutin para magsimulang makinig",
        "pt": "Toque para começar a ouvir",
        "ne": "सुन्न सुरु गर्न थिच्नुहोस्",
        "ko": "눌러서 듣기 시작",
        "id": "Ketuk untuk mulai mendengarkan",
        "es": "Toque para empezar a escuchar",
    },
    "listening": {
        "ja": "聞いています…（タップで停止）",
        "ja-easy": "きいています…（おすと とまります）",
        "en": "Listening… (tap to stop)",
        "vi": "Đang nghe… (chạm để dừng)",
        "zh": "正在聆听…（点击停止）",
        "tl": "Nakikinig… (pindutin para huminto)",
        "pt": "Ouvindo… (toque para parar)",
        "ne": "सुनिरहेको छ… (रोक्न थिच्नुहोस्)",
        "ko": "듣는 중… (눌러서 중지)",
        "id": "Mendengarkan… (ketuk untuk berhenti)",
        "es": "Escuchando… (toque para parar)",
    },
    "ok_speak": {
        "ja": "OK、読み上げる",
        "ja-easy": "OK、よみあげる",
        "en": "OK, speak",
        "vi": "OK, đọc",
        "zh": "好，朗读",
        "tl": "OK, bigkasin",
        "pt": "OK, falar",
        "ne": "ठीक छ, बोल्नुहोस्",
        "ko": "확인, 읽어 주기",
        "id": "OK, ucapkan",
        "es": "OK, decir",
    },
    "confirm_language": {
        "ja": "この言語でよろしいですか？",
        "ja-easy": "この ことばで いいですか？",
        "en": "Is this your language?",
        "vi": "Đây có phải là ngôn ngữ của bạn không?",
        "zh": "这是您的语言吗？",
        "tl": "Ito ba ang inyong wika?",
        "pt": "Este é o seu idioma?",
        "ne": "के यो तपाईंको भाषा हो?",
        "ko": "이 언어가 맞습니까?",
        "id": "Apakah ini bahasa Anda?",
        "es": "¿Es este su idioma?",
    },
    "yes": {
        "ja": "はい",
        "ja-easy": "はい",
        "en": "Yes",
        "vi": "Có",
        "zh": "是",
        "tl": "Oo",
        "pt": "Sim",
        "ne": "हो",
        "ko": "예",
        "id": "Ya",
        "es": "Sí",
    },
    "back_translation": {
        "ja": "逆翻訳（確認用）",
        "ja-easy": "もどした ほんやく",
        "en": "Translated back (to check)",
        "vi": "Dịch ngược lại (để kiểm tra)",
        "zh": "回译（供核对）",
        "tl": "Isinalin pabalik (para suriin)",
        "pt": "Tradução de volta (para conferir)",
        "ne": "फेरि उल्था (जाँचका लागि)",
        "ko": "역번역 (확인용)",
        "id": "Terjemahan balik (untuk memeriksa)",
        "es": "Traducción inversa (para comprobar)",
    },
    "voice_machine": {
        "ja": "機械音声です（音質は低めです）",
        "ja-easy": "きかいの こえです（ききにくい ことが あります）",
        "en": "Machine voice, low quality",
        "vi": "Giọng máy, chất lượng thấp",
        "zh": "机器语音，音质较低",
        "tl": "Boses ng makina, mababa ang kalidad",
        "pt": "Voz de máquina, baixa qualidade",
        "ne": "मेसिनको आवाज, कम गुणस्तर",
        "ko": "기계 음성, 낮은 품질",
        "id": "Suara mesin, kualitas rendah",
        "es": "Voz de máquina, baja calidad",
    },
    "voice_none": {
        "ja": "この言語の音声はありません。画面の文字をお読みください。",
        "ja-easy": "こえは ありません。がめんの じを よんで ください。",
        "en": "No voice in this language: please read the screen.",
        "vi": "Không có giọng đọc cho ngôn ngữ này: vui lòng đọc trên màn hình.",
        "zh": "此语言没有语音，请阅读屏幕上的文字。",
        "tl": "Walang boses para sa wikang ito: pakibasa ang nasa screen.",
        "pt": "Não há voz neste idioma: por favor, leia a tela.",
        "ne": "यो भाषामा आवाज छैन: कृपया स्क्रिन पढ्नुहोस्।",
        "ko": "이 언어는 음성이 없습니다. 화면의 글을 읽어 주세요.",
        "id": "Tidak ada suara untuk bahasa ini: silakan baca layar.",
        "es": "No hay voz en este idioma: por favor, lea la pantalla.",
    },
    "voice_japanese": {
        "ja": "日本語の音声で読み上げます",
        "ja-easy": "にほんごの こえで よみあげます",
        "en": "Spoken in Japanese",
    },
}

#: Resident languages that a later release adds as a target only (a hook for the picker).
EXTRA_PICKER_LANGUAGES: Final[tuple[str, ...]] = ("ja-easy",)


@dataclass(frozen=True)
class PhraseEntry:
    """A phrase as the clerk's screen shows it."""

    phrase_id: str
    situation: str
    ja: str
    easy_ja: str
    translations: dict[str, str]
    reviewed: bool

    def to_dict(self) -> dict[str, Any]:
        """JSON for the page."""
        return {
            "id": self.phrase_id,
            "situation": self.situation,
            "ja": self.ja,
            "easy_ja": self.easy_ja,
            "translations": dict(self.translations),
            "reviewed": self.reviewed,
        }


class PhraseBook:
    """The glossary's fixed phrases grouped by situation (reviewed only when the counter asks so)."""

    def __init__(self, glossary: Any | None, *, reviewed_only: bool = False) -> None:
        """Wrap a ``glossary.Glossary`` (None: an empty phrase book)."""
        phrases = dict(getattr(glossary, "phrases", {}) or {})
        self._entries: dict[str, PhraseEntry] = {}
        for phrase in sorted(phrases.values(), key=lambda p: p.id):
            if reviewed_only and not phrase.reviewed:
                continue
            self._entries[phrase.id] = PhraseEntry(
                phrase_id=phrase.id,
                situation=phrase.situation,
                ja=phrase.ja,
                easy_ja=phrase.easy_ja,
                translations=dict(phrase.translations),
                reviewed=phrase.reviewed,
            )

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, phrase_id: str) -> PhraseEntry:
        """The phrase ``phrase_id``.

        Raises:
            KeyError: unknown phrase.
        """
        return self._entries[phrase_id]

    def text(self, phrase_id: str, language: str) -> str:
        """The phrase in ``language`` (``ja``, ``ja-easy`` or a resident language); ``""`` when missing."""
        entry = self.get(phrase_id)
        if language == "ja":
            return entry.ja
        if language == "ja-easy":
            return entry.easy_ja
        return entry.translations.get(language, "")

    def grouped(self) -> list[dict[str, Any]]:
        """Situations in glossary order, each with its phrases (JSON for the page)."""
        try:
            from glossary.schema import SITUATIONS

            order = list(SITUATIONS)
            labels = {key: {"ja": label.ja, "en": label.en} for key, label in SITUATIONS.items()}
        except ImportError:  # pragma: no cover - the glossary ships with the edge
            order, labels = [], {}
        groups: dict[str, list[dict[str, Any]]] = {}
        for entry in self._entries.values():
            groups.setdefault(entry.situation, []).append(entry.to_dict())
        keys = sorted(groups, key=lambda k: (order.index(k) if k in order else len(order), k))
        return [
            {"situation": key, "label": labels.get(key, {"ja": key, "en": key}), "phrases": groups[key]}
            for key in keys
        ]


def screen_texts() -> dict[str, Any]:
    """The fixed texts of the counter screen for the page."""
    return {
        "promise": PROMISE,
        "not_official": NOT_OFFICIAL,
        "resident_ui": RESIDENT_UI,
        "native_names": dict(NATIVE_NAMES),
        "english_names": dict(ENGLISH_NAMES),
        "extra_picker_languages": list(EXTRA_PICKER_LANGUAGES),
    }
