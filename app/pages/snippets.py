"""Setup snippets for the coding tools, with the real endpoint and key filled in.

Pure text (docs/agents/*.md has the details and why each line is there). ``where`` says where
the snippet goes; it is marked for translation and translated by the page that shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QT_TRANSLATE_NOOP

KEY_PLACEHOLDER = "sk-sb-YOUR-KEY"
EXAMPLE_MODEL = "anthropic/claude-sonnet-4-5"
CONTEXT = "snippets"  # the translation context of ``where`` (a literal for lupdate)


@dataclass(frozen=True, slots=True)
class Snippet:
    agent_id: str
    title: str  # a product name: not translated
    where: str  # English; translate with QCoreApplication.translate(CONTEXT, where)
    text: str


def snippets(endpoint: str, key: str | None, model: str = EXAMPLE_MODEL) -> tuple[Snippet, ...]:
    key = key or KEY_PLACEHOLDER
    v1 = f"{endpoint}/v1"
    return (
        Snippet(
            "claude-code",
            "Claude Code",
            str(
                QT_TRANSLATE_NOOP(
                    "snippets",
                    'Run in your shell before `claude`, or put the same variables under "env" '
                    "in ~/.claude/settings.json.",
                )
            ),
            f"export ANTHROPIC_BASE_URL={endpoint}\n"
            f"export ANTHROPIC_AUTH_TOKEN={key}\n"
            f"export ANTHROPIC_MODEL={model}\n"
            f"export ANTHROPIC_DEFAULT_HAIKU_MODEL={model}\n",
        ),
        Snippet(
            "codex",
            "Codex CLI",
            str(
                QT_TRANSLATE_NOOP(
                    "snippets", "Add to ~/.codex/config.toml, and export the key in your shell."
                )
            ),
            f'model = "{model}"\n'
            'model_provider = "switchboard"\n'
            "\n"
            "[model_providers.switchboard]\n"
            'name = "Switchboard"\n'
            f'base_url = "{v1}"\n'
            'wire_api = "responses"\n'
            'env_key = "SWITCHBOARD_API_KEY"\n'
            "\n"
            "[features]\n"
            "plugins = false\n"
            "\n"
            "# in your shell:\n"
            f"# export SWITCHBOARD_API_KEY={key}\n",
        ),
        Snippet(
            "gemini-cli",
            "Gemini CLI",
            str(
                QT_TRANSLATE_NOOP(
                    "snippets",
                    "Run in your shell (or put the variables in ~/.gemini/.env), and select "
                    "API-key authentication in ~/.gemini/settings.json as shown.",
                )
            ),
            f"export GOOGLE_GEMINI_BASE_URL={endpoint}\n"
            f"export GEMINI_API_KEY={key}\n"
            f"export GEMINI_MODEL={model}\n"
            "\n"
            "# ~/.gemini/settings.json\n"
            '# { "security": { "auth": { "selectedType": "gemini-api-key" } } }\n',
        ),
        Snippet(
            "cursor",
            "Cursor",
            str(
                QT_TRANSLATE_NOOP(
                    "snippets",
                    "Cursor Settings → Models: enter the key and base URL, then add the model "
                    "name. Cursor may send custom-endpoint requests from its own servers, which "
                    "cannot reach 127.0.0.1.",
                )
            ),
            f"OpenAI API Key:            {key}\n"
            f"Override OpenAI Base URL:  {v1}\n"
            f"Add custom model:          {model}\n",
        ),
        Snippet(
            "cline",
            "Cline",
            str(
                QT_TRANSLATE_NOOP(
                    "snippets", 'Cline settings: choose the API provider "OpenAI Compatible", then:'
                )
            ),
            f"Base URL:  {v1}\nAPI Key:   {key}\nModel ID:  {model}\n",
        ),
        Snippet(
            "opencode",
            "OpenCode",
            str(QT_TRANSLATE_NOOP("snippets", "Save as ~/.config/opencode/opencode.json.")),
            "{\n"
            '  "$schema": "https://opencode.ai/config.json",\n'
            f'  "model": "switchboard/{model}",\n'
            '  "provider": {\n'
            '    "switchboard": {\n'
            '      "npm": "@ai-sdk/openai-compatible",\n'
            '      "name": "Switchboard",\n'
            f'      "options": {{ "baseURL": "{v1}", "apiKey": "{key}" }},\n'
            f'      "models": {{ "{model}": {{ "name": "{model}" }} }}\n'
            "    }\n"
            "  }\n"
            "}\n",
        ),
    )
