"""Every error class carries its own code and HTTP status; the API answers with that status."""

from __future__ import annotations

import pytest

from jianyan import errors
from jianyan.errors import BadUpload, JianyanError, error_classes


def test_every_error_class_has_its_own_code_and_a_status():
    classes = error_classes()
    assert len(classes) >= 18  # all of them, not only InputError's family
    for cls in classes:
        assert "code" in vars(cls) and "http_status" in vars(cls), f"{cls.__name__} inherits its code or status"
        assert 400 <= cls.http_status < 600, cls
    codes = [cls.code for cls in classes]
    assert len(codes) == len(set(codes)), "two classes share a code"


def test_every_error_a_module_defines_is_in_the_one_module():
    import importlib
    import pkgutil

    import jianyan

    for info in pkgutil.walk_packages(jianyan.__path__, "jianyan."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, JianyanError):
                assert value.__module__ == "jianyan.errors", f"{value.__name__} defined in {info.name}"


@pytest.mark.parametrize("problems, status", [
    ([{"code": "unsupported_type", "file": "a.png", "message": "…"}], 415),
    ([{"code": "corrupt", "file": "a.docx", "message": "…"}], 422),
    ([{"code": "corrupt", "file": "a.docx", "message": "…"},
      {"code": "unsupported_type", "file": "b.exe", "message": "…"}], 415),
])
def test_a_refused_upload_says_415_for_a_foreign_type_and_422_for_an_unreadable_file(problems, status):
    assert BadUpload("有文件不能导入", problems).status() == status


def test_the_api_answers_each_error_with_its_class_status():
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from jianyan.api import errors as api_errors

    app = FastAPI()
    api_errors.install(app)
    raised = {cls.__name__: cls for cls in error_classes() if cls is not BadUpload}

    @app.get("/raise/{name}")
    def boom(name: str):
        raise raised[name]("出错了")

    client = TestClient(app)
    for name, cls in raised.items():
        resp = client.get(f"/raise/{name}")
        assert resp.status_code == cls.http_status, name
        assert resp.json()["error"] == {"code": cls.code, "message": "出错了"}
    assert errors.NotFound.http_status == 404  # a spot check of the table itself
