"""Request bodies of the JSON API (pydantic): what the OpenAPI document shows and validation refuses."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

DocType = Literal["proposal", "report", "policy", "other"]


def _encodable(value: str) -> str:
    """JSON may carry lone surrogates ("\\ud800"), which no tokenizer or response can encode."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("含有无法识别的字符") from None
    return value


def _integral(value):
    """JSON has one number type: 10.0 is the integer 10 (JSON Schema's "integer" says so), while
    "10", true and 10.5 stay refused (strict). A field validator, not a `BeforeValidator` in the
    type: pydantic then drops the type's bounds from the JSON schema."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


Text = Annotated[str, AfterValidator(_encodable)]
Year = Annotated[int, Field(ge=0, le=9999, strict=True)]


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    query: Text = Field(description="几个词、一句话或粘贴的一段文字（至多 5000 字）")
    mode: Literal["hybrid", "dense", "keyword"] = "hybrid"
    k: int = Field(10, strict=True, description="返回多少篇文档（1–200）")
    doc_type: DocType | None = None
    year_from: Year | None = None
    year_to: Year | None = None
    category: Text | None = Field(None, max_length=100)
    exclude: list[Text] = Field(default_factory=list, max_length=1000, description="不返回这些外部编号的文档")

    _whole_numbers = field_validator("k", "year_from", "year_to", mode="before")(_integral)


class DupesRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    title: Text = Field("", max_length=500, description="提案标题（案由）")
    text: Text = Field(description="提案正文（20–50,000 字）")
    exclude: list[Text] = Field(default_factory=list, max_length=1000, description="不与这些外部编号的提案比较")
    limit: int = Field(10, ge=1, le=50, strict=True)

    _whole_numbers = field_validator("limit", mode="before")(_integral)
