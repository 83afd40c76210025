"""The team room: team events as ordinary Telegram messages, and the team state they fold into."""
