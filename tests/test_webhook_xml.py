"""The inbound text message built from ElementTree (webhooks/common.py `parse_callback`) is the
message wechatpy's own parser builds; whatever is not a flat text message is left to wechatpy."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from wechatpy import parse_message
from wechatpy.enterprise import parse_message as parse_wecom
from wechatpy.enterprise.messages import MESSAGE_TYPES as WECOM_TYPES
from wechatpy.messages import MESSAGE_TYPES

from laborsign.webhooks.common import flat_fields, parse_callback

TEXTS = [
    "<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oABC]]></FromUserName>"
    "<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[ 绑定 13800138000 ]]></Content><MsgId>1234567890123456</MsgId></xml>",
    "<xml>\n  <ToUserName>gh</ToUserName>\n  <FromUserName>o1</FromUserName>\n  <CreateTime>1</CreateTime>\n"
    "  <MsgType>TEXT</MsgType>\n  <Content></Content>\n  <MsgId>7</MsgId>\n</xml>",
    "<xml><ToUserName>ww1</ToUserName><FromUserName>zhang</FromUserName><CreateTime>2</CreateTime>"
    "<MsgType>text</MsgType><Content>&lt;帮助&gt; &amp; more</Content><MsgId>9</MsgId><AgentID>1000002</AgentID></xml>",
]


@pytest.mark.parametrize("xml", TEXTS)
@pytest.mark.parametrize(("types", "sdk"), [(MESSAGE_TYPES, parse_message), (WECOM_TYPES, parse_wecom)])
def test_text_messages_are_what_wechatpy_builds(
    xml: str, types: dict[str, Any], sdk: Callable[[str], Any]
) -> None:
    ours, theirs = parse_callback(xml, types, sdk), sdk(xml)
    assert type(ours) is type(theirs)
    assert ours._data == theirs._data
    for field in ("type", "source", "target", "content", "id", "create_time"):
        assert getattr(ours, field) == getattr(theirs, field), field


def test_anything_else_goes_to_wechatpy() -> None:
    subscribe = (
        "<xml><ToUserName>gh</ToUserName><FromUserName>o1</FromUserName><CreateTime>1</CreateTime>"
        "<MsgType>event</MsgType><Event>subscribe</Event><EventKey>qrscene_join:abc</EventKey></xml>"
    )
    message = parse_callback(subscribe, MESSAGE_TYPES, parse_message)
    assert message.event == "subscribe_scan" and message.scene_id == "join:abc"
    nested = (
        "<xml><FromUserName>o1</FromUserName><MsgType>event</MsgType><Event>scancode_push</Event>"
        "<ScanCodeInfo><ScanType>qrcode</ScanType><ScanResult>1</ScanResult></ScanCodeInfo></xml>"
    )
    assert flat_fields(nested) is None
    assert parse_callback(nested, MESSAGE_TYPES, parse_message).event == "scancode_push"
    assert flat_fields("<xml><Content>a</Content><Content>b</Content></xml>") is None
    assert flat_fields("<other><Content>a</Content></other>") is None
