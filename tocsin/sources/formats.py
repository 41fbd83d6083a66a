"""Every input format tocsin reads: the parsers by format name, in the order detection asks them.

Adding a format is adding its parser here.
"""

from __future__ import annotations

from tocsin.sources.base import Parser
from tocsin.sources.cloud.auth0 import Auth0Parser
from tocsin.sources.cloud.cloudtrail import CloudTrailParser
from tocsin.sources.cloud.duo import DuoParser
from tocsin.sources.cloud.entra import EntraParser
from tocsin.sources.cloud.github import GitHubParser
from tocsin.sources.cloud.google_workspace import GoogleWorkspaceParser
from tocsin.sources.cloud.okta import OktaParser
from tocsin.sources.cloud.onelogin import OneLoginParser
from tocsin.sources.generic import CsvParser, GenericJsonParser
from tocsin.sources.journald import JournaldParser
from tocsin.sources.pcap.parser import PcapParser
from tocsin.sources.platform import PlatformParser
from tocsin.sources.report_stream import ReportStreamParser
from tocsin.sources.suricata import EveParser
from tocsin.sources.syslog import SyslogParser
from tocsin.sources.web.jsonlog import JsonAccessParser
from tocsin.sources.web.lines import (
    AlbParser,
    ApacheAccessParser,
    ApacheErrorParser,
    HaproxyParser,
    NginxAccessParser,
    NginxErrorParser,
    TomcatAccessParser,
)
from tocsin.sources.web.w3c import CloudFrontParser, IisParser
from tocsin.sources.windows import EvtxJsonParser, EvtxParser
from tocsin.sources.zeek import ZeekParser

PARSERS: dict[str, type[Parser]] = {
    parser.name: parser
    for parser in (
        Auth0Parser,
        CloudTrailParser,
        DuoParser,
        EntraParser,
        GitHubParser,
        GoogleWorkspaceParser,
        OktaParser,
        OneLoginParser,
        GenericJsonParser,
        CsvParser,
        SyslogParser,
        JournaldParser,
        PcapParser,
        ReportStreamParser,
        PlatformParser,
        EvtxParser,
        EvtxJsonParser,
        ZeekParser,
        EveParser,
        ApacheAccessParser,
        NginxAccessParser,
        TomcatAccessParser,
        ApacheErrorParser,
        NginxErrorParser,
        HaproxyParser,
        AlbParser,
        IisParser,
        CloudFrontParser,
        JsonAccessParser,
    )
}
