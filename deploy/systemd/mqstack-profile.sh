# /etc/profile.d/mqstack.sh: ZK_HOME, KAFKA_HOME, KE_HOME and PATH for login
# shells, as the Apache install guides set them in /etc/profile.d/my_env.sh.
if [ -r /etc/mqstack/mqstack.env ]; then
  set -a
  . /etc/mqstack/mqstack.env
  set +a
  PATH="$PATH:$ZK_HOME/bin"
  export PATH
fi
