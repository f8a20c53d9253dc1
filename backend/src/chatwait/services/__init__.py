"""Services: the model, the agent, conversations and streaming, behind thin routers."""
