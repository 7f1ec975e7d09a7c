"""IRC numeric replies, named once.

The core speaks in numerics even to plain users: each dialect decides how a
numeric looks (the IRC wire format, or one readable line for netcat).
"""

from __future__ import annotations

from typing import Final

RPL_WELCOME: Final = "001"
RPL_YOURHOST: Final = "002"
RPL_CREATED: Final = "003"
RPL_MYINFO: Final = "004"
RPL_ISUPPORT: Final = "005"
RPL_STATSKLINE: Final = "216"
RPL_ENDOFSTATS: Final = "219"
RPL_UMODEIS: Final = "221"
RPL_STATSDLINE: Final = "225"
RPL_STATSUPTIME: Final = "242"
RPL_STATSOLINE: Final = "243"
RPL_STATSDEBUG: Final = "249"
RPL_LUSERCLIENT: Final = "251"
RPL_LUSEROP: Final = "252"
RPL_LUSERUNKNOWN: Final = "253"
RPL_LUSERCHANNELS: Final = "254"
RPL_LUSERME: Final = "255"
RPL_LOCALUSERS: Final = "265"
RPL_GLOBALUSERS: Final = "266"
RPL_AWAY: Final = "301"
RPL_USERHOST: Final = "302"
RPL_ISON: Final = "303"
RPL_UNAWAY: Final = "305"
RPL_NOWAWAY: Final = "306"
RPL_WHOISUSER: Final = "311"
RPL_WHOISSERVER: Final = "312"
RPL_ENDOFWHO: Final = "315"
RPL_WHOISIDLE: Final = "317"
RPL_ENDOFWHOIS: Final = "318"
RPL_WHOISCHANNELS: Final = "319"
RPL_LISTSTART: Final = "321"
RPL_LIST: Final = "322"
RPL_LISTEND: Final = "323"
RPL_CHANNELMODEIS: Final = "324"
RPL_CREATIONTIME: Final = "329"
RPL_NOTOPIC: Final = "331"
RPL_TOPIC: Final = "332"
RPL_TOPICWHOTIME: Final = "333"
RPL_INVITING: Final = "341"
RPL_VERSION: Final = "351"
RPL_WHOREPLY: Final = "352"
RPL_NAMREPLY: Final = "353"
RPL_WHOSPCRPL: Final = "354"
RPL_ENDOFNAMES: Final = "366"
RPL_MOTD: Final = "372"
RPL_MOTDSTART: Final = "375"
RPL_ENDOFMOTD: Final = "376"
RPL_TIME: Final = "391"
RPL_WHOISOPERATOR: Final = "313"
RPL_WHOWASUSER: Final = "314"
RPL_WHOISBOT: Final = "335"
RPL_INVITELIST: Final = "346"
RPL_ENDOFINVITELIST: Final = "347"
RPL_EXCEPTLIST: Final = "348"
RPL_ENDOFEXCEPTLIST: Final = "349"
RPL_LINKS: Final = "364"
RPL_ENDOFLINKS: Final = "365"
RPL_BANLIST: Final = "367"
RPL_ENDOFBANLIST: Final = "368"
RPL_ENDOFWHOWAS: Final = "369"
RPL_INFO: Final = "371"
RPL_ENDOFINFO: Final = "374"
RPL_YOUREOPER: Final = "381"
RPL_REHASHING: Final = "382"
RPL_MONONLINE: Final = "730"
RPL_MONOFFLINE: Final = "731"
RPL_MONLIST: Final = "732"
RPL_ENDOFMONLIST: Final = "733"
ERR_MONLISTFULL: Final = "734"
RPL_WHOISACCOUNT: Final = "330"
RPL_WHOISSECURE: Final = "671"
RPL_WHOISACTUALLY: Final = "338"
RPL_LOGGEDIN: Final = "900"
RPL_LOGGEDOUT: Final = "901"
ERR_NICKLOCKED: Final = "902"
RPL_SASLSUCCESS: Final = "903"
ERR_SASLFAIL: Final = "904"
ERR_SASLTOOLONG: Final = "905"
ERR_SASLABORTED: Final = "906"
ERR_SASLALREADY: Final = "907"
RPL_SASLMECHS: Final = "908"
RPL_HELPSTART: Final = "704"
RPL_HELPTXT: Final = "705"
RPL_ENDOFHELP: Final = "706"

ERR_UNKNOWNERROR: Final = "400"
ERR_NOSUCHNICK: Final = "401"
ERR_NOSUCHSERVER: Final = "402"
ERR_NOSUCHCHANNEL: Final = "403"
ERR_CANNOTSENDTOCHAN: Final = "404"
ERR_TOOMANYCHANNELS: Final = "405"
ERR_NORECIPIENT: Final = "411"
ERR_NOTEXTTOSEND: Final = "412"
ERR_INPUTTOOLONG: Final = "417"
ERR_UNKNOWNCOMMAND: Final = "421"
ERR_NOMOTD: Final = "422"
ERR_NONICKNAMEGIVEN: Final = "431"
ERR_ERRONEUSNICKNAME: Final = "432"
ERR_NICKNAMEINUSE: Final = "433"
ERR_USERNOTINCHANNEL: Final = "441"
ERR_NOTONCHANNEL: Final = "442"
ERR_USERONCHANNEL: Final = "443"
ERR_NOTREGISTERED: Final = "451"
ERR_NEEDMOREPARAMS: Final = "461"
ERR_ALREADYREGISTERED: Final = "462"
ERR_PASSWDMISMATCH: Final = "464"
ERR_YOUREBANNEDCREEP: Final = "465"
ERR_CHANNELISFULL: Final = "471"
ERR_UNKNOWNMODE: Final = "472"
ERR_INVITEONLYCHAN: Final = "473"
ERR_BADCHANNELKEY: Final = "475"
ERR_CHANOPRIVSNEEDED: Final = "482"
ERR_UMODEUNKNOWNFLAG: Final = "501"
ERR_USERSDONTMATCH: Final = "502"
ERR_HELPNOTFOUND: Final = "524"
ERR_WASNOSUCHNICK: Final = "406"
ERR_TOOMANYTARGETS: Final = "407"
ERR_INVALIDCAPCMD: Final = "410"
ERR_BANNEDFROMCHAN: Final = "474"
ERR_BANLISTFULL: Final = "478"
ERR_NOPRIVILEGES: Final = "481"
ERR_CANTKILLSERVER: Final = "483"
ERR_NOOPERHOST: Final = "491"
ERR_INVALIDKEY: Final = "525"
ERR_INVALIDMODEPARAM: Final = "696"

#: Default trailing text of error numerics, as established servers word them.
#: RPL_ENDOFWHO's text when the WHO listed nobody, so the end can say so in words.
ENDOFWHO_NOBODY: Final = "End of /WHO list (nobody to show)"

ERROR_TEXT: Final[dict[str, str]] = {
    ERR_UNKNOWNERROR: "Internal error while handling the command",
    ERR_NOSUCHNICK: "No such nick/channel",
    ERR_NOSUCHSERVER: "No such server",
    ERR_NOSUCHCHANNEL: "No such channel",
    ERR_CANNOTSENDTOCHAN: "Cannot send to channel",
    ERR_TOOMANYCHANNELS: "You have joined too many channels",
    ERR_NORECIPIENT: "No recipient given",
    ERR_NOTEXTTOSEND: "No text to send",
    ERR_INPUTTOOLONG: "Input line was too long",
    ERR_UNKNOWNCOMMAND: "Unknown command",
    ERR_NOMOTD: "MOTD File is missing",
    ERR_NONICKNAMEGIVEN: "No nickname given",
    ERR_ERRONEUSNICKNAME: "Erroneous nickname",
    ERR_NICKNAMEINUSE: "Nickname is already in use",
    ERR_USERNOTINCHANNEL: "They aren't on that channel",
    ERR_NOTONCHANNEL: "You're not on that channel",
    ERR_USERONCHANNEL: "is already on channel",
    ERR_NOTREGISTERED: "You have not registered",
    ERR_NEEDMOREPARAMS: "Not enough parameters",
    ERR_ALREADYREGISTERED: "You may not reregister",
    ERR_PASSWDMISMATCH: "Password incorrect",
    ERR_CHANNELISFULL: "Cannot join channel (+l)",
    ERR_UNKNOWNMODE: "is unknown mode char to me",
    ERR_INVITEONLYCHAN: "Cannot join channel (+i)",
    ERR_BADCHANNELKEY: "Cannot join channel (+k)",
    ERR_CHANOPRIVSNEEDED: "You're not channel operator",
    ERR_UMODEUNKNOWNFLAG: "Unknown MODE flag",
    ERR_USERSDONTMATCH: "Cant change mode for other users",
    ERR_HELPNOTFOUND: "No help available on this topic",
    ERR_WASNOSUCHNICK: "There was no such nickname",
    ERR_TOOMANYTARGETS: "Too many targets",
    ERR_INVALIDCAPCMD: "Invalid CAP command",
    ERR_BANNEDFROMCHAN: "Cannot join channel (+b)",
    ERR_BANLISTFULL: "Channel list is full",
    ERR_NOPRIVILEGES: "Permission Denied- You're not an IRC operator",
    ERR_CANTKILLSERVER: "You cant kill a server!",
    ERR_NOOPERHOST: "No O-lines for your host",
    ERR_INVALIDKEY: "Key is not well-formed",
    ERR_INVALIDMODEPARAM: "Invalid mode parameter",
    ERR_MONLISTFULL: "Monitor list is full",
    ERR_NICKLOCKED: "You must use a nick assigned to you",
    ERR_SASLFAIL: "SASL authentication failed",
    ERR_SASLTOOLONG: "SASL message too long",
    ERR_SASLABORTED: "SASL authentication aborted",
    ERR_SASLALREADY: "You have already authenticated using SASL",
}
