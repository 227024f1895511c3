"""The server's own words in the user's language: every refusal the API sends (``{"error": ...}``)
is written in English at the place that knows why, and translated once, on its way out, into the
language the request asks for (``Accept-Language``; the pages send the one the user chose).

The catalogues (``<language>.json`` beside this file) map each English message, with ``{}`` where
the code puts a value, to its translation (``{}`` in order, or ``{0}``, ``{1}`` … to reorder)."""

from agent_ui.i18n.catalogue import Catalogue, catalogue
from agent_ui.i18n.middleware import speak_the_users_language
from agent_ui.i18n.negotiation import LANGUAGES, language_of
from agent_ui.i18n.said import rejections_said, said

__all__ = ["LANGUAGES", "Catalogue", "catalogue", "language_of", "rejections_said", "said", "speak_the_users_language"]
