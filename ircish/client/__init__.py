"""The ``ircish`` terminal client: prompt_toolkit + rich, speaking IRC.

Modules: ``model`` (buffers and state), ``irc`` (the protocol, sans I/O),
``commands`` (slash commands), ``completion`` (Tab), ``render`` (rich to
prompt_toolkit), ``connection`` (asyncio and reconnection), ``app`` (the
full-screen UI and ``main``).
"""
